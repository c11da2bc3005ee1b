// How the jobs and workers queries stay current: from the live feed of `GET /api/v1/events`
// (liveFeed.ts) while it is connected, by polling every 2 s while it is not. Even when live the
// queries refetch every 15 s, a safety net that costs little.
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useSyncExternalStore } from "react";
import { LiveFeed } from "./liveFeed";

export const JOBS_POLL_MS = 2000;
export const LIVE_SAFETY_POLL_MS = 15_000;

export interface LiveUpdates {
  live: boolean;
  refetchInterval: number;
}

const feeds = new WeakMap<QueryClient, LiveFeed>();

function feedOf(queryClient: QueryClient): LiveFeed {
  let feed = feeds.get(queryClient);
  if (!feed) feeds.set(queryClient, (feed = new LiveFeed(queryClient)));
  return feed;
}

export function useJobEvents(): LiveUpdates {
  const feed = feedOf(useQueryClient());
  useEffect(() => feed.acquire(), [feed]);
  const live = useSyncExternalStore(feed.subscribe, () => feed.connected);
  return { live, refetchInterval: live ? LIVE_SAFETY_POLL_MS : JOBS_POLL_MS };
}
