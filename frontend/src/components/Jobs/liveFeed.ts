// The dashboard's live feed: one `GET /api/v1/events` stream (SSE) for the whole app. Each
// `job` event is written into the cached job and into every cached jobs page that shows it;
// the lists and the workers are refetched (at most once a second) so new rows appear. On every
// (re)connect everything is refetched once (`ready`), and again on a `reset` event (the API
// could not replay what changed while the stream was down).
import type { QueryClient } from "@tanstack/react-query";
import type { JobOut, JobPage } from "../../client";
import { authHeaders } from "../../lib/api";
import { handleApiError } from "../../lib/queryClient";
import { followSse, type FollowOptions } from "../../lib/sse";

export const REFETCH_THROTTLE_MS = 1000;

/** Of two copies of a job, the later state: the higher version (each change adds one). */
export function newer(job: JobOut, than: JobOut | undefined): boolean {
  if (!than) return true;
  if (job.version !== undefined && than.version !== undefined) return job.version >= than.version;
  return !than.updated_at || Date.parse(job.updated_at) >= Date.parse(than.updated_at);
}

/** Writes one changed job into the cache: its own query and the rows of cached pages. */
export function applyJobEvent(queryClient: QueryClient, job: JobOut): void {
  queryClient.setQueryData<JobOut>(["job", job.id], (old) => (newer(job, old) ? job : old));
  queryClient.setQueriesData<JobPage>({ queryKey: ["jobs"] }, (page) => {
    if (!page || !Array.isArray(page.items) || !page.items.some((row) => row.id === job.id)) return page;
    return { ...page, items: page.items.map((row) => (row.id === job.id && newer(job, row) ? job : row)) };
  });
}

type Fetch = FollowOptions["fetchImpl"];

export class LiveFeed {
  private abort: AbortController | null = null;
  private users = 0;
  private live = false;
  private readonly listeners = new Set<() => void>();
  private readonly pending = new Set<string>(); // query keys to refetch
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly queryClient: QueryClient,
    private readonly fetchImpl?: Fetch,
    private readonly retryMs = 2000,
  ) {}

  /** True while the stream is open and current. */
  get connected(): boolean {
    return this.live;
  }

  subscribe = (notify: () => void): (() => void) => {
    this.listeners.add(notify);
    return () => this.listeners.delete(notify);
  };

  /** A component wants live data: the first one opens the stream, the last one closes it. */
  acquire(): () => void {
    if (this.users++ === 0) this.open();
    return () => {
      if (--this.users === 0) this.close();
    };
  }

  private setLive(value: boolean): void {
    if (this.live === value) return;
    this.live = value;
    this.listeners.forEach((notify) => notify());
  }

  private refetchSoon(...keys: string[]): void {
    keys.forEach((key) => this.pending.add(key));
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      for (const key of this.pending) {
        // cancelRefetch false: a burst of events must not keep cancelling the fetch in flight.
        void this.queryClient.invalidateQueries({ queryKey: [key] }, { cancelRefetch: false });
      }
      this.pending.clear();
    }, REFETCH_THROTTLE_MS);
  }

  private open(): void {
    const abort = new AbortController();
    this.abort = abort;
    void followSse({
      url: "/api/v1/events",
      headers: authHeaders,
      signal: abort.signal,
      retryMs: this.retryMs,
      fetchImpl: this.fetchImpl,
      onError: (error) => {
        this.setLive(false);
        handleApiError(error);
      },
      onEvent: (event) => {
        if (event.event === "ready" || event.event === "reset") {
          this.setLive(true);
          // Whatever changed before this stream began is not in it.
          void this.queryClient.invalidateQueries({ queryKey: ["job"] }, { cancelRefetch: false });
          this.refetchSoon("jobs", "workers");
        } else if (event.event === "job") {
          applyJobEvent(this.queryClient, JSON.parse(event.data) as JobOut);
          this.refetchSoon("jobs");
        } else if (event.event === "worker") {
          this.refetchSoon("workers");
        }
      },
    }).finally(() => {
      if (this.abort === abort) this.setLive(false);
    });
  }

  private close(): void {
    this.abort?.abort();
    this.abort = null;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.setLive(false);
  }
}
