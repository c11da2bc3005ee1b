// THE PLUG-IN POINT FOR `GET /api/v1/events` (SPEC §3: SSE of job and worker changes).
// The API does not serve that feed yet, so the jobs queries poll every 2 s. When it lands:
// open it here with followSse (src/lib/sse.ts), write each changed job into the cache
// (queryClient.setQueryData(["job", id], job)) and invalidate ["jobs"] / ["workers"], then
// return { refetchInterval: false } so the polling stops. Every jobs query takes its
// refetchInterval from this hook, so nothing else has to change.
export const JOBS_POLL_MS = 2000;

export interface LiveUpdates {
  refetchInterval: number | false;
}

export function useJobEvents(): LiveUpdates {
  return { refetchInterval: JOBS_POLL_MS };
}
