import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  cancelJob,
  cancelJobs,
  getJob,
  listJobs,
  listWorkers,
  rerunJob,
  rerunJobs,
  submitJob,
  type JobOut,
  type JobSpec,
  type JobStatus,
  type ListJobsData,
} from "../../client";
import { applyJobEvent } from "./liveFeed";
import { useJobEvents } from "./useJobEvents";

export const FINAL_STATUSES: JobStatus[] = ["succeeded", "failed", "timed_out", "cancelled"];
export const ALL_STATUSES: JobStatus[] = ["queued", "running", ...FINAL_STATUSES];

export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export type JobSort = NonNullable<NonNullable<ListJobsData["query"]>["sort"]>;

/** The orders GET /jobs offers, as the Sort field names them; the first is the API's default. */
export const SORTS: { value: JobSort; label: string }[] = [
  { value: "-created_at", label: "Newest first" },
  { value: "created_at", label: "Oldest first" },
  { value: "-finished_at", label: "Ended, latest first" },
  { value: "finished_at", label: "Ended, earliest first" },
];

export interface JobFilters {
  status?: JobStatus;
  label?: string;
  worker?: string;
  q?: string;
  /** Absent: newest first. */
  sort?: JobSort;
  /** Created at or after (ISO 8601). */
  from?: string;
  /** Created before (ISO 8601). */
  to?: string;
}

export function useJobsPage(filters: JobFilters, cursor: string | undefined, limit = 50) {
  const { refetchInterval } = useJobEvents();
  const { status, label, worker, q, sort, from, to } = filters;
  const query = { status, label, worker, q, sort, created_after: from, created_before: to, cursor, limit };
  return useQuery({
    queryKey: ["jobs", query],
    queryFn: async () => (await listJobs({ query, throwOnError: true })).data,
    refetchInterval,
    placeholderData: keepPreviousData,
  });
}

export function useJob(jobId: string) {
  const { refetchInterval } = useJobEvents();
  return useQuery({
    queryKey: ["job", jobId],
    queryFn: async () => (await getJob({ path: { job_id: jobId }, throwOnError: true })).data,
    refetchInterval: (query) => (query.state.data && isFinal(query.state.data.status) ? false : refetchInterval),
  });
}

export function useWorkers() {
  const { live } = useJobEvents();
  return useQuery({
    queryKey: ["workers"],
    queryFn: async () => (await listWorkers({ throwOnError: true })).data,
    // Heartbeat times move every few seconds; state changes come from the feed when live.
    refetchInterval: live ? 10_000 : 3000,
  });
}

function useJobChange() {
  const queryClient = useQueryClient();
  return (job: JobOut) => {
    applyJobEvent(queryClient, job);
    void queryClient.invalidateQueries({ queryKey: ["jobs"] });
  };
}

export function useCancelJob(jobId: string) {
  const changed = useJobChange();
  return useMutation({
    mutationFn: async () => (await cancelJob({ path: { job_id: jobId }, throwOnError: true })).data,
    onSuccess: changed,
  });
}

export function useRerunJob(jobId: string) {
  const changed = useJobChange();
  return useMutation({
    mutationFn: async () => (await rerunJob({ path: { job_id: jobId }, throwOnError: true })).data,
    onSuccess: changed,
  });
}

export function useSubmitJob() {
  const changed = useJobChange();
  return useMutation({
    mutationFn: async (spec: JobSpec) => (await submitJob({ body: spec, throwOnError: true })).data,
    onSuccess: changed,
  });
}

/** Cancel or rerun many jobs in one request (POST /jobs/cancel, /jobs/rerun): an answer per id. */
export function useBulkJobs() {
  const queryClient = useQueryClient();
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ["jobs"] });
    void queryClient.invalidateQueries({ queryKey: ["overview"] });
  };
  const cancel = useMutation({
    mutationFn: async (ids: string[]) => (await cancelJobs({ body: { ids }, throwOnError: true })).data,
    onSuccess: refresh,
  });
  const rerun = useMutation({
    mutationFn: async (ids: string[]) => (await rerunJobs({ body: { ids }, throwOnError: true })).data,
    onSuccess: refresh,
  });
  return { cancel, rerun };
}
