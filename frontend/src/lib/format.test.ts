import { describe, expect, it } from "vitest";
import { formatLogTime, fromLocalInput, toLocalInput } from "./format";

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
