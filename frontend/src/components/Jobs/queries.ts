import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  cancelJob,
  getJob,
  listJobs,
  listWorkers,
  rerunJob,
  submitJob,
  type JobOut,
  type JobSpec,
  type JobStatus,
} from "../../client";
import { applyJobEvent } from "./liveFeed";
import { useJobEvents } from "./useJobEvents";

export const FINAL_STATUSES: JobStatus[] = ["succeeded", "failed", "timed_out", "cancelled"];
export const ALL_STATUSES: JobStatus[] = ["queued", "running", ...FINAL_STATUSES];

export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export interface JobFilters {
  status?: JobStatus;
  label?: string;
  worker?: string;
  q?: string;
}

export function useJobsPage(filters: JobFilters, cursor: string | undefined, limit = 50) {
  const { refetchInterval } = useJobEvents();
  const { status, label, worker, q } = filters;
  return useQuery({
    queryKey: ["jobs", { status, label, worker, q, cursor, limit }],
    queryFn: async () =>
      (await listJobs({ query: { status, label, worker, q, cursor, limit }, throwOnError: true })).data,
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
