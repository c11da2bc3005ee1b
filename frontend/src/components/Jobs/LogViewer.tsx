import { useVirtualizer } from "@tanstack/react-virtual";
import { type ReactNode, useCallback, useLayoutEffect, useRef, useState } from "react";
import type { LogLine } from "../../client";
import { AnsiText } from "./AnsiText";

export const ROW_HEIGHT = 20; // px; must match .log-row in styles.css
const BOTTOM_SLACK = ROW_HEIGHT * 2;

interface Props {
  lines: readonly LogLine[];
  /** Changes whenever `lines` grew (the array itself is appended to in place). */
  version: number;
  toolbar?: ReactNode;
  status?: ReactNode;
  /** Still reading the stored lines: no "No output yet." */
  loading?: boolean;
}

/**
 * A job's output: virtualised (only the rows in view are in the DOM, so 100,000+ lines stay
 * smooth), line numbers, stderr marked, ANSI colours. Follow mode keeps the newest line in view;
 * scrolling up stops it, scrolling back to the bottom (or the Follow button) resumes it.
 */
export function LogViewer({ lines, version, toolbar, status, loading }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const followRef = useRef(true);
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

  const width = String(lines.length ? lines[lines.length - 1].seq : 1).length;

  return (
    <section className="log" aria-label="Log">
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
        {toolbar}
      </div>
      <div
        ref={scroller}
        className="log-scroll"
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
                <span className="log-text">
                  <AnsiText text={line.text} />
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </section>
  );
}
