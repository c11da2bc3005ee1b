import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  previewSchedule,
  scheduleJobs,
  triggerSchedule,
  updateSchedule,
  type ScheduleIn,
  type ScheduleOut,
} from "../../client";
import { applyJobEvent } from "../Jobs/liveFeed";
import { useJobEvents } from "../Jobs/useJobEvents";

// next_run_at and the last job move on their own (the API's scheduler fires): poll a little.
const POLL_MS = 5000;

export function useSchedules() {
  return useQuery({
    queryKey: ["schedules"],
    queryFn: async () => (await listSchedules({ throwOnError: true })).data,
    refetchInterval: POLL_MS,
  });
}

export function useSchedule(id: string) {
  return useQuery({
    queryKey: ["schedule", id],
    queryFn: async () => (await getSchedule({ path: { schedule_id: id }, throwOnError: true })).data,
    refetchInterval: POLL_MS,
  });
}

/** The jobs a schedule made, newest first. Under ["jobs", …]: the live feed updates its rows. */
export function useScheduleJobs(id: string, cursor: string | undefined) {
  const { refetchInterval } = useJobEvents();
  return useQuery({
    queryKey: ["jobs", "schedule", id, cursor],
    queryFn: async () =>
      (await scheduleJobs({ path: { schedule_id: id }, query: { cursor, limit: 20 }, throwOnError: true })).data,
    refetchInterval,
    placeholderData: keepPreviousData,
  });
}

/** The expression in words and its next fire times; null cron asks nothing. */
export function usePreview(cron: string, timezone: string, count = 5) {
  return useQuery({
    queryKey: ["schedule-preview", cron, timezone, count],
    queryFn: async ({ signal }) =>
      (await previewSchedule({ query: { cron, timezone, count }, signal, throwOnError: true })).data,
    enabled: cron.trim() !== "" && timezone.trim() !== "",
    staleTime: 30_000,
    retry: false,
  });
}

export function useScheduleActions() {
  const queryClient = useQueryClient();
  const changed = (schedule: ScheduleOut) => {
    queryClient.setQueryData(["schedule", schedule.id], schedule);
    queryClient.setQueryData<ScheduleOut[]>(["schedules"], (list) => list?.map((s) => (s.id === schedule.id ? schedule : s)));
    void queryClient.invalidateQueries({ queryKey: ["schedules"] });
  };
  const create = useMutation({
    mutationFn: async (body: ScheduleIn) => (await createSchedule({ body, throwOnError: true })).data,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["schedules"] }),
  });
  const setEnabled = useMutation({
    mutationFn: async ({ id, enabled }: { id: string; enabled: boolean }) =>
      (await updateSchedule({ path: { schedule_id: id }, body: { enabled }, throwOnError: true })).data,
    onSuccess: changed,
  });
  const updateTiming = useMutation({
    mutationFn: async ({ id, ...body }: { id: string; cron: string; timezone: string; misfire: "run_once" | "skip" }) =>
      (await updateSchedule({ path: { schedule_id: id }, body, throwOnError: true })).data,
    onSuccess: changed,
  });
  const trigger = useMutation({
    mutationFn: async (id: string) => (await triggerSchedule({ path: { schedule_id: id }, throwOnError: true })).data,
    onSuccess: (job, id) => {
      applyJobEvent(queryClient, job);
      void queryClient.invalidateQueries({ queryKey: ["jobs"] });
      void queryClient.invalidateQueries({ queryKey: ["schedule", id] });
      void queryClient.invalidateQueries({ queryKey: ["schedules"] });
    },
  });
  const remove = useMutation({
    mutationFn: async (id: string) => {
      await deleteSchedule({ path: { schedule_id: id }, throwOnError: true });
      return id;
    },
    onSuccess: (id) => {
      queryClient.setQueryData<ScheduleOut[]>(["schedules"], (list) => list?.filter((s) => s.id !== id));
      queryClient.removeQueries({ queryKey: ["schedule", id] });
      void queryClient.invalidateQueries({ queryKey: ["schedules"] });
    },
  });
  return { create, setEnabled, updateTiming, trigger, remove };
}
