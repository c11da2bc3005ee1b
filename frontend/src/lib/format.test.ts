import { describe, expect, it } from "vitest";
import { formatDateIn, formatLogTime, formatSeconds, fromLocalInput, relativeTime, toLocalInput } from "./format";

describe("formatSeconds", () => {
  it("reads short", () => {
    expect(formatSeconds(0.0123)).toBe("12 ms");
    expect(formatSeconds(1.25)).toBe("1.3s");
    expect(formatSeconds(2)).toBe("2s");
    expect(formatSeconds(42.4)).toBe("42s");
    expect(formatSeconds(185)).toBe("3m 5s");
    expect(formatSeconds(120)).toBe("2m");
    expect(formatSeconds(7800)).toBe("2h 10m");
    expect(formatSeconds(7200)).toBe("2h");
  });
});

describe("datetime-local values", () => {
  it("go to UTC instants and back, in the browser's zone", () => {
    const iso = fromLocalInput("2026-03-01T14:05")!;
    expect(new Date(iso).getHours()).toBe(14);
    expect(new Date(iso).getMinutes()).toBe(5);
    expect(iso.endsWith("Z")).toBe(true);
    expect(toLocalInput(iso)).toBe("2026-03-01T14:05");
    expect(fromLocalInput("")).toBeUndefined();
    expect(toLocalInput(undefined)).toBe("");
    expect(toLocalInput("not a date")).toBe("");
  });
});

describe("formatLogTime", () => {
  it("is the local time of day to the millisecond", () => {
    const at = new Date(2026, 0, 2, 3, 4, 5, 67);
    expect(formatLogTime(at.toISOString())).toBe("03:04:05.067");
    expect(formatLogTime("")).toBe("");
  });
});

describe("relativeTime", () => {
  const now = Date.parse("2026-12-02T12:00:00Z");
  const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();
  it("reads the future", () => {
    expect(relativeTime(at(3), now)).toBe("in a moment");
    expect(relativeTime(at(42), now)).toBe("in 42s");
    expect(relativeTime(at(5 * 60 + 10), now)).toBe("in 5m");
    expect(relativeTime(at(3600), now)).toBe("in 1h");
    expect(relativeTime(at(2 * 3600 + 10 * 60), now)).toBe("in 2h 10m");
    expect(relativeTime(at(26 * 3600), now)).toBe("in 1d 2h");
    expect(relativeTime(at(10 * 86400 + 3600), now)).toBe("in 10d");
  });
  it("reads the past as timeAgo does", () => {
    expect(relativeTime(at(-1), now)).toBe("just now");
    expect(relativeTime(at(-180), now)).toBe("3m ago");
    expect(relativeTime(null, now)).toBe("—");
  });
});

describe("formatDateIn", () => {
  it("shows the wall clock of the zone", () => {
    expect(formatDateIn("2026-12-02T08:30:00Z", "Asia/Tokyo")).toMatch(/17:30|5:30/);
    expect(formatDateIn("2026-12-02T08:30:00Z", "UTC")).toMatch(/08:30|8:30/);
  });
  it("falls back to local time for a zone it does not know", () => {
    expect(formatDateIn("2026-12-02T08:30:00Z", "Nowhere/Atlantis")).not.toBe("—");
  });
});
