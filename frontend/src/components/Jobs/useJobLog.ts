import { useEffect, useRef, useState } from "react";
import { readLogs, type LogLine } from "../../client";
import { authHeaders } from "../../lib/api";
import { handleApiError } from "../../lib/queryClient";
import { followSse } from "../../lib/sse";

const PAGE = 10_000; // the API's largest page
const FLUSH_MS = 50; // at most ~20 renders a second however fast lines arrive

export type LogPhase = "loading" | "live" | "complete" | "error";

export interface JobLogState {
  /** Appended to in place; `version` changes when it grew. */
  lines: LogLine[];
  version: number;
  phase: LogPhase;
  error?: unknown;
  end?: { status: string; exit_code: number | null };
}

interface Options {
  /** Open the live stream when the attempt is not over (only for the job's current attempt). */
  live: boolean;
  onEnd?: () => void;
  /** A retry started: the stream moves on to attempt `n`. */
  onAttempt?: (n: number) => void;
}

/**
 * One attempt's log: backfilled page by page over REST, then tailed over SSE (fetch-based, with
 * the bearer token) from the last line read, until the stream's `end` event.
 */
export function useJobLog(jobId: string, attempt: number, { live, onEnd, onAttempt }: Options): JobLogState {
  const [state, setState] = useState<Omit<JobLogState, "lines" | "version">>({ phase: "loading" });
  const [version, setVersion] = useState(0);
  const linesRef = useRef<LogLine[]>([]);
  const callbacks = useRef({ onEnd, onAttempt });
  callbacks.current = { onEnd, onAttempt };

  useEffect(() => {
    const lines: LogLine[] = [];
    linesRef.current = lines;
    const controller = new AbortController();
    const { signal } = controller;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        setVersion((v) => v + 1);
      }, FLUSH_MS);
    };
    const append = (more: LogLine[]) => {
      const last = lines.length ? lines[lines.length - 1].seq : 0;
      for (const line of more) if (line.seq > last) lines.push(line); // a resend after reconnect
      flush();
    };
    setState({ phase: "loading" });
    setVersion((v) => v + 1);

    async function run() {
      let after = 0;
      for (;;) {
        const { data: page } = await readLogs({
          path: { job_id: jobId },
          query: { after, limit: PAGE, attempt },
          signal,
          throwOnError: true,
        });
        append(page.lines);
        after = page.next;
        if (page.complete) return setState({ phase: "complete" });
        if (page.lines.length < PAGE) break;
      }
      if (!live) return setState({ phase: "complete" });
      setState({ phase: "live" });
      await followSse({
        url: `/api/v1/jobs/${encodeURIComponent(jobId)}/logs/stream?after=${after}`,
        headers: authHeaders,
        signal,
        onError: handleApiError,
        onEvent: (event) => {
          if (event.event === "log") {
            append((JSON.parse(event.data) as { lines: LogLine[] }).lines);
          } else if (event.event === "attempt") {
            callbacks.current.onAttempt?.((JSON.parse(event.data) as { attempt: number }).attempt);
            return "stop";
          } else if (event.event === "end") {
            const end = JSON.parse(event.data) as JobLogState["end"];
            flush();
            setState({ phase: "complete", end });
            callbacks.current.onEnd?.();
            return "stop";
          }
        },
      });
    }

    run().catch((error: unknown) => {
      if (signal.aborted) return;
      handleApiError(error);
      setState({ phase: "error", error });
    });
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [jobId, attempt, live]);

  return { lines: linesRef.current, version, ...state };
}
