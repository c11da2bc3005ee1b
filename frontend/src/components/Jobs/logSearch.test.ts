import { describe, expect, it } from "vitest";
import type { LogLine } from "../../client";
import { parseAnsi } from "../../lib/ansi";
import { LogSearch, markSegments, MAX_MATCHES, shownText } from "./logSearch";

const line = (seq: number, text: string): LogLine => ({ seq, stream: "stdout", text, ts: "2026-01-01T00:00:00Z" });

describe("LogSearch", () => {
  it("finds every occurrence, any case, in the text as shown (without ANSI escapes)", () => {
    const lines = [line(1, "Error: disk"), line(2, "no"), line(3, "\x1b[31merr\x1b[0mor ERROR"), line(4, "e\x1b[1mrror")];
    const search = new LogSearch("error");
    search.scan(lines);
    expect([...search.lines]).toEqual([0, 2, 2, 3]);
    expect([...search.starts]).toEqual([0, 0, 6, 0]);
    expect(shownText(lines[2].text)).toBe("error ERROR");
    // Regular-expression characters are plain text
    const dots = new LogSearch("a.b");
    dots.scan([line(1, "axb a.b")]);
    expect([...dots.starts]).toEqual([4]);
  });

  it("goes on with the lines added since, and tells which match is where", () => {
    const lines = [line(1, "x"), line(2, "x x")];
    const search = new LogSearch("x");
    expect(search.scan(lines)).toBe(true);
    expect(search.scan(lines)).toBe(false); // nothing new
    lines.push(line(3, "y"), line(4, "x"));
    expect(search.scan(lines)).toBe(true);
    expect(search.count).toBe(4);
    expect(search.firstAtOrAfter(1)).toBe(1);
    expect(search.firstAtOrAfter(2)).toBe(3);
    expect(search.firstAtOrAfter(9)).toBe(4);
    expect(search.marksIn(1, 2)).toEqual([
      { start: 0, end: 1, current: false },
      { start: 2, end: 3, current: true },
    ]);
    expect(search.marksIn(2, 0)).toBeUndefined();
  });

  it("stops counting at MAX_MATCHES", () => {
    const lines = Array.from({ length: MAX_MATCHES / 10 + 5 }, (_, i) => line(i + 1, "aaaaaaaaaa"));
    const search = new LogSearch("a");
    search.scan(lines);
    expect(search.count).toBe(MAX_MATCHES);
    expect(search.capped).toBe(true);
  });

  it("searches 100,000 lines in well under a second", () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => line(i + 1, `line ${i + 1} of the build output`));
    const started = performance.now();
    const search = new LogSearch("99999");
    search.scan(lines);
    expect(search.count).toBe(1);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("markSegments", () => {
  it("cuts styled segments at the edges of the matches", () => {
    const segments = parseAnsi("ab\x1b[31mcdef\x1b[0mgh"); // "ab" plain, "cdef" red, "gh" plain
    const out = markSegments(segments, [
      { start: 1, end: 3, current: false },
      { start: 5, end: 7, current: true },
    ]);
    expect(out.map((s) => [s.text, s.style.fg ?? null, s.mark ?? null])).toEqual([
      ["a", null, null],
      ["b", null, "match"],
      ["c", 1, "match"],
      ["de", 1, null],
      ["f", 1, "current"],
      ["g", null, "current"],
      ["h", null, null],
    ]);
  });
});
