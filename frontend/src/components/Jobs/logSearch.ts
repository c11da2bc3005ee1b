// Search inside a log: every occurrence of a text (any case) in the lines as shown, i.e. without
// their ANSI escapes. Lines only ever grow at the end, so a search goes on from the line it
// reached instead of starting over.
import type { LogLine } from "../../client";
import { type AnsiSegment, hasAnsi, parseAnsi } from "../../lib/ansi";

/** Beyond this many matches the count says "100,000+" and the search stops. */
export const MAX_MATCHES = 100_000;

/** A line's text as the viewer shows it. */
export function shownText(text: string): string {
  return hasAnsi(text) ? parseAnsi(text).map((s) => s.text).join("") : text;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The matches of one query, in order: match `i` is in line `lines[i]` (an index into the log's
 * lines) from `starts[i]` to `starts[i] + length` of that line's shown text.
 */
export class LogSearch {
  readonly lines: number[] = [];
  readonly starts: number[] = [];
  readonly length: number;
  capped = false;
  private scanned = 0;
  private readonly pattern: RegExp;

  constructor(readonly query: string) {
    this.length = query.length;
    this.pattern = new RegExp(escapeRegExp(query), "gi");
  }

  get count(): number {
    return this.lines.length;
  }

  /** Looks through the lines not seen yet; true when there are new matches. */
  scan(lines: readonly LogLine[]): boolean {
    const before = this.count;
    for (; this.scanned < lines.length && !this.capped; this.scanned++) {
      const text = shownText(lines[this.scanned].text);
      this.pattern.lastIndex = 0;
      for (let m = this.pattern.exec(text); m; m = this.pattern.exec(text)) {
        if (this.count >= MAX_MATCHES) {
          this.capped = true;
          break;
        }
        this.lines.push(this.scanned);
        this.starts.push(m.index);
      }
    }
    return this.count !== before;
  }

  /** The index of the first match in line `line` or after it (count when there is none). */
  firstAtOrAfter(line: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lines[mid] < line) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The matches in one line: their [start, end) in its shown text, and which is `current`. */
  marksIn(line: number, current: number): Mark[] | undefined {
    const marks: Mark[] = [];
    for (let i = this.firstAtOrAfter(line); i < this.count && this.lines[i] === line; i++) {
      marks.push({ start: this.starts[i], end: this.starts[i] + this.length, current: i === current });
    }
    return marks.length ? marks : undefined;
  }
}

export interface Mark {
  start: number;
  end: number;
  current: boolean;
}

export interface MarkedSegment extends AnsiSegment {
  /** Inside a match: "match", or "current" for the one the viewer is at. */
  mark?: "match" | "current";
}

/** Cuts styled segments at the edges of the marks (sorted, not overlapping). */
export function markSegments(segments: AnsiSegment[], marks: Mark[]): MarkedSegment[] {
  const out: MarkedSegment[] = [];
  let offset = 0;
  let m = 0;
  for (const segment of segments) {
    const end = offset + segment.text.length;
    let at = offset;
    while (at < end) {
      while (m < marks.length && marks[m].end <= at) m++;
      const mark = marks[m];
      if (!mark || mark.start >= end) {
        out.push({ text: segment.text.slice(at - offset), style: segment.style });
        break;
      }
      if (mark.start > at) {
        out.push({ text: segment.text.slice(at - offset, mark.start - offset), style: segment.style });
        at = mark.start;
      }
      const stop = Math.min(mark.end, end);
      out.push({
        text: segment.text.slice(at - offset, stop - offset),
        style: segment.style,
        mark: mark.current ? "current" : "match",
      });
      at = stop;
    }
    offset = end;
  }
  return out;
}
