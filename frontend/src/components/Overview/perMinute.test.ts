import { describe, expect, it } from "vitest";
import { perMinute } from "./perMinute";

describe("perMinute", () => {
  it("counts per minute over the last hour, the current minute last", () => {
    const now = Date.parse("2026-01-01T12:00:30Z");
    const buckets = perMinute(
      ["2026-01-01T12:00:10Z", "2026-01-01T12:00:20Z", "2026-01-01T11:59:59Z", "2026-01-01T11:01:00Z", "2026-01-01T10:59:00Z"],
      now,
    );
    expect(buckets).toHaveLength(60);
    expect(buckets[59]).toBe(2);
    expect(buckets[58]).toBe(1);
    expect(buckets[0]).toBe(1);
    expect(buckets.reduce((a, b) => a + b)).toBe(4);
  });
});
