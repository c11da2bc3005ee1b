// The live feed of `GET /api/v1/events` (SSE of the tenant's job and worker changes).
// One stream for the whole app, shared by every component that uses the hook: each changed job
// is written into the cache and the lists are refetched. While the stream is down the queries
// fall back to polling every 2 s, so nothing goes stale.
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useSyncExternalStore } from "react";
import type { JobOut } from "../../client";
import { authHeaders } from "../../lib/api";
import { handleApiError } from "../../lib/queryClient";
import { followSse } from "../../lib/sse";

export const JOBS_POLL_MS = 2000;

export interface LiveUpdates {
  refetchInterval: number | false;
}

let users = 0;
let connected = false;
let abort: AbortController | null = null;
const listeners = new Set<() => void>();

function setConnected(value: boolean) {
  if (connected === value) return;
  connected = value;
  listeners.forEach((notify) => notify());
}

function open(queryClient: QueryClient) {
  abort = new AbortController();
  const { signal } = abort;
  void followSse({
    url: "/api/v1/events",
    headers: authHeaders,
    signal,
    onError: (error) => {
      setConnected(false);
      handleApiError(error);
    },
    onEvent: (event) => {
      setConnected(true);
      if (event.event === "job") {
        const job = JSON.parse(event.data) as JobOut;
        queryClient.setQueryData(["job", job.id], job);
        void queryClient.invalidateQueries({ queryKey: ["jobs"] });
      } else if (event.event === "worker") {
        void queryClient.invalidateQueries({ queryKey: ["workers"] });
      }
    },
  }).finally(() => setConnected(false));
}

export function useJobEvents(): LiveUpdates {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (users++ === 0) open(queryClient);
    return () => {
      if (--users === 0) {
        abort?.abort();
        abort = null;
        setConnected(false);
      }
    };
  }, [queryClient]);
  const live = useSyncExternalStore(
    (notify) => {
      listeners.add(notify);
      return () => listeners.delete(notify);
    },
    () => connected,
  );
  // Live: the feed refreshes what changed. Until its first event (or while it reconnects),
  // poll, so a page never shows stale data.
  return { refetchInterval: live ? false : JOBS_POLL_MS };
}
