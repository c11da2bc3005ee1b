import { describe, expect, it } from "vitest";
import type { JobOut } from "../../client";
import { retryText } from "./RetryCountdown";

const at = Date.parse("2026-01-01T00:00:00Z");

function job(status: JobOut["status"], attempts: Partial<JobOut["attempts"][number]>[]): JobOut {
  return {
    status,
    max_retries: 3,
    attempt: attempts.length,
    attempts: attempts.map((a, i) => ({ number: i + 1, error: null, not_before: null, ...a })),
  } as JobOut;
}

describe("retryText", () => {
  it("counts down to a waiting retry, numbered among the retries", () => {
    const waiting = job("queued", [{ status: "failed" }, { status: "failed" }, { not_before: "2026-01-01T00:00:04Z" }]);
    expect(retryText(waiting, at)).toBe("retry 2 of 3 in 4 s");
    expect(retryText(waiting, at + 5000)).toBe("retry 2 of 3: due now");
  });

  it("shows nothing for a job not waiting on a backoff", () => {
    expect(retryText(job("running", [{ status: "running" }]), at)).toBeNull();
    expect(retryText(job("queued", [{ status: "queued" }]), at)).toBeNull();
  });
});
