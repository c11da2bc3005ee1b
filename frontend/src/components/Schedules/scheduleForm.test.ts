import { emptySchedule, scheduleErrorsFrom, toScheduleIn } from "./scheduleForm";

describe("toScheduleIn", () => {
  it("makes the body of POST /schedules", () => {
    const { body, errors } = toScheduleIn({
      ...emptySchedule("Europe/Berlin"),
      name: " nightly ", cron: " 30  2 * * 1-5 ", command: "make backup", labels: "linux, big", timeout: "600", retries: "2",
      misfire: "skip",
    });
    expect(errors).toEqual({});
    expect(body).toEqual({
      name: "nightly", cron: "30  2 * * 1-5", timezone: "Europe/Berlin", enabled: true, misfire: "skip",
      job: { command: "make backup", labels: ["linux", "big"], env: {}, timeout_seconds: 600, max_retries: 2, priority: 0 },
    });
  });

  it("says what is missing or wrong before sending", () => {
    const { body, errors } = toScheduleIn({ ...emptySchedule(""), timeout: "ten" });
    expect(body).toBeUndefined();
    expect(errors).toMatchObject({ name: "a name", cron: "a cron expression", timezone: "a time zone", command: "a command to run", timeout: "a whole number" });
  });
});

describe("scheduleErrorsFrom", () => {
  it("puts FastAPI's issues next to their fields", () => {
    expect(
      scheduleErrorsFrom([
        { loc: ["body", "cron"], msg: "Value error, minute: 61 is out of range 0-59" },
        { loc: ["body", "timezone"], msg: "Value error, unknown time zone Mars/Base" },
        { loc: ["body", "job", "timeout_seconds"], msg: "Input should be greater than 0" },
      ]),
    ).toEqual({
      cron: "minute: 61 is out of range 0-59",
      timezone: "unknown time zone Mars/Base",
      timeout: "Input should be greater than 0",
    });
  });

  it("reads a one-sentence detail that names its field", () => {
    expect(scheduleErrorsFrom("job.secrets: unknown secret TOKEN (set it first)")).toEqual({ secrets: "unknown secret TOKEN (set it first)" });
    expect(scheduleErrorsFrom("a schedule named 'x' exists")).toEqual({ form: "a schedule named 'x' exists" });
  });
});
