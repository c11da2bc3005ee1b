import { useVirtualizer } from "@tanstack/react-virtual";
import { type KeyboardEvent, type ReactNode, useCallback, useLayoutEffect, useRef, useState } from "react";
import type { LogLine } from "../../client";
import { formatLogTime } from "../../lib/format";
import { AnsiText } from "./AnsiText";
import { useLogSearch } from "./useLogSearch";

export const ROW_HEIGHT = 20; // px; must match .log-row in styles.css
const BOTTOM_SLACK = ROW_HEIGHT * 2;
const TIMESTAMPS_KEY = "jobrunner.log.timestamps";

interface Props {
  lines: readonly LogLine[];
  /** Changes whenever `lines` grew (the array itself is appended to in place). */
  version: number;
  toolbar?: ReactNode;
  status?: ReactNode;
  /** Still reading the stored lines: no "No output yet." */
  loading?: boolean;
}

function storedTimestamps(): boolean {
  try {
    return localStorage.getItem(TIMESTAMPS_KEY) === "1";
  } catch {
    return false;
  }
}

/**
 * A job's output: virtualised (only the rows in view are in the DOM, so 100,000+ lines stay
 * smooth), line numbers, stderr marked, ANSI colours, each line's time on demand. Follow mode
 * keeps the newest line in view; scrolling up stops it, scrolling back to the bottom (or the
 * Follow button) resumes it. Find searches every line (not only those in the DOM), highlights
 * the matches and scrolls to the current one.
 */
export function LogViewer({ lines, version, toolbar, status, loading }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const findInput = useRef<HTMLInputElement>(null);
  const [follow, setFollow] = useState(true);
  const followRef = useRef(true);
  const [timestamps, setTimestamps] = useState(storedTimestamps);
  const count = lines.length;

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });

  const setFollowing = useCallback((value: boolean) => {
    followRef.current = value;
    setFollow(value);
  }, []);

  const scrollToBottom = useCallback(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, []);

  /** Puts line `index` in the middle of the view (rows have a fixed height) and stops following. */
  const showLine = useCallback(
    (index: number) => {
      const el = scroller.current;
      if (!el) return;
      setFollowing(false);
      el.scrollTop = Math.max(0, index * ROW_HEIGHT - (el.clientHeight - ROW_HEIGHT) / 2);
      // A match far along a long line: once its row is drawn, scroll sideways to it too.
      requestAnimationFrame(() => {
        el.querySelector(".log-match-current")?.scrollIntoView?.({ block: "nearest", inline: "nearest" });
      });
    },
    [setFollowing],
  );

  const firstVisible = () => Math.floor((scroller.current?.scrollTop ?? 0) / ROW_HEIGHT);
  const search = useLogSearch(lines, version, firstVisible, showLine);

  // New lines while following: keep the last one in view.
  useLayoutEffect(() => {
    if (followRef.current) scrollToBottom();
  }, [version, count, scrollToBottom]);

  function onScroll() {
    const el = scroller.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK;
    if (atBottom !== followRef.current) setFollowing(atBottom);
  }

  function onKeyDown(event: KeyboardEvent) {
    // The browser's own find sees only the rows in the DOM: inside the log, Ctrl-F is ours.
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "f") {
      event.preventDefault();
      findInput.current?.focus();
      findInput.current?.select();
    }
  }

  function onFindKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "Enter") {
      event.preventDefault();
      search.step(event.shiftKey ? -1 : 1);
    } else if (event.key === "Escape" && search.query) {
      event.preventDefault();
      search.setQuery("");
    }
  }

  function toggleTimestamps() {
    const next = !timestamps;
    setTimestamps(next);
    try {
      localStorage.setItem(TIMESTAMPS_KEY, next ? "1" : "0");
    } catch {
      // private mode: the choice lasts as long as the page
    }
  }

  const width = String(lines.length ? lines[lines.length - 1].seq : 1).length;

  return (
    <section className="log" aria-label="Log" onKeyDown={onKeyDown}>
      <div className="log-toolbar">
        <span className="log-status" aria-live="polite">
          {status}
        </span>
        <span className="muted">{count.toLocaleString()} lines</span>
        <button
          type="button"
          aria-pressed={follow}
          onClick={() => {
            setFollowing(true);
            scrollToBottom();
          }}
          title="Keep the newest line in view"
        >
          {follow ? "Following" : "Follow"}
        </button>
        <button type="button" aria-pressed={timestamps} onClick={toggleTimestamps} title="Show when each line was read">
          Timestamps
        </button>
        {toolbar}
      </div>
      <div className="log-find" role="search" aria-label="Find in the log">
        <input
          ref={findInput}
          type="search"
          className="log-find-input"
          placeholder="Find in log…"
          aria-label="Find in log"
          value={search.query}
          onChange={(e) => search.setQuery(e.target.value)}
          onKeyDown={onFindKeyDown}
        />
        <button type="button" onClick={() => search.step(-1)} disabled={!search.count} aria-label="Previous match" title="Previous match (Shift+Enter)">
          ↑
        </button>
        <button type="button" onClick={() => search.step(1)} disabled={!search.count} aria-label="Next match" title="Next match (Enter)">
          ↓
        </button>
        <span className="log-find-count muted" role="status" aria-label="Matches">
          {search.summary}
        </span>
      </div>
      <div
        ref={scroller}
        className={timestamps ? "log-scroll log-with-times" : "log-scroll"}
        onScroll={onScroll}
        role="log"
        aria-live="off"
        aria-label="Job output"
        tabIndex={0}
        data-testid="log-scroll"
        style={{ ["--gutter" as string]: `${width + 1}ch` }}
      >
        {count === 0 && !loading && <div className="log-empty muted">No output yet.</div>}
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {virtualizer.getVirtualItems().map((row) => {
            const line = lines[row.index];
            const marks = search.marksIn(row.index);
            return (
              <div
                key={row.key}
                className={line.stream === "stderr" ? "log-row log-stderr" : "log-row"}
                data-seq={line.seq}
                style={{ transform: `translateY(${row.start}px)` }}
              >
                <span className="log-no" aria-hidden="true">
                  {line.seq}
                </span>
                {timestamps && (
                  <time className="log-ts" dateTime={line.ts} title={line.ts}>
                    {formatLogTime(line.ts)}
                  </time>
                )}
                <span className="log-text">
                  <AnsiText text={line.text} marks={marks} />
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </section>
  );
}
