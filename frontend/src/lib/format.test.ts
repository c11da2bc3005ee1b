import { describe, expect, it } from "vitest";
import { formatLogTime, formatSeconds, fromLocalInput, toLocalInput } from "./format";

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
