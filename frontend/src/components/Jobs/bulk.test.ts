import { describe, expect, it } from "vitest";
import { describeCancel, describeRerun } from "./bulk";

describe("bulk results in words", () => {
  it("counts each outcome of a cancel", () => {
    expect(
      describeCancel([
        { id: "a", outcome: "cancelled", status: "cancelled" },
        { id: "b", outcome: "cancelled", status: "cancelled" },
        { id: "c", outcome: "cancelling", status: "running" },
        { id: "d", outcome: "already_final", status: "succeeded" },
        { id: "e", outcome: "not_found", status: null },
      ]),
    ).toBe(
      "2 jobs cancelled; 1 running job stopping (each ends when its worker has stopped it); 1 job had already ended; 1 job not found.",
    );
  });

  it("says which rerun was refused and why", () => {
    expect(
      describeRerun([
        { id: "a", outcome: "rerun", job_id: "x" },
        { id: "b", outcome: "refused", detail: "secrets: unknown secret GONE" },
        { id: "c", outcome: "not_found" },
      ]),
    ).toBe("1 new job started; job b refused: secrets: unknown secret GONE; 1 job not found.");
  });
});
