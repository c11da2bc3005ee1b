// The new-schedule form's values, their conversion to the API's ScheduleIn, and the API's 422
// details mapped back to the form's fields. The job part is the new-job form's (Jobs/jobForm.ts).
import type { ScheduleIn } from "../../client";
import type { ValidationIssue } from "../../lib/api";
import { EMPTY_FORM, toJobSpec } from "../Jobs/jobForm";

export interface ScheduleFormValues {
  name: string;
  cron: string;
  timezone: string;
  command: string;
  labels: string; // comma or space separated
  secrets: string;
  timeout: string;
  retries: string;
  enabled: boolean;
  misfire: "run_once" | "skip";
}

export const emptySchedule = (timezone: string): ScheduleFormValues => ({
  name: "", cron: "", timezone, command: "", labels: "", secrets: "", timeout: "", retries: "0", enabled: true, misfire: "run_once",
});

export type ScheduleField = keyof ScheduleFormValues | "form";
export type ScheduleErrors = Partial<Record<ScheduleField, string>>;

/** The ScheduleIn to send, or what is wrong before sending (the API checks the rest). */
export function toScheduleIn(values: ScheduleFormValues): { body?: ScheduleIn; errors: ScheduleErrors } {
  const errors: ScheduleErrors = {};
  if (!values.name.trim()) errors.name = "a name";
  if (!values.cron.trim()) errors.cron = "a cron expression";
  if (!values.timezone.trim()) errors.timezone = "a time zone";
  const job = toJobSpec({
    ...EMPTY_FORM, command: values.command, labels: values.labels, secrets: values.secrets, timeout: values.timeout, retries: values.retries,
  });
  for (const [field, message] of Object.entries(job.errors)) {
    const key = field === "timeout" || field === "retries" || field === "labels" || field === "secrets" ? field : "command";
    errors[key] = message;
  }
  if (Object.keys(errors).length || !job.spec) return { errors };
  return {
    body: {
      name: values.name.trim(),
      cron: values.cron.trim(),
      timezone: values.timezone.trim(),
      job: job.spec,
      enabled: values.enabled,
      misfire: values.misfire,
    },
    errors,
  };
}

const JOB_FIELD: Record<string, ScheduleField> = {
  command: "command", labels: "labels", secrets: "secrets", timeout_seconds: "timeout", max_retries: "retries",
};

/** FastAPI's 422 detail, or a one-sentence detail ("job.secrets: unknown secret X ..."), by field. */
export function scheduleErrorsFrom(detail: ValidationIssue[] | string): ScheduleErrors {
  const errors: ScheduleErrors = {};
  const add = (key: ScheduleField, message: string) => {
    errors[key] = errors[key] ? `${errors[key]}; ${message}` : message;
  };
  if (typeof detail === "string") {
    const match = /^(?:job\.)?(\w+): (.+)$/s.exec(detail);
    const key = match && (JOB_FIELD[match[1]] ?? (["name", "cron", "timezone"].includes(match[1]) ? (match[1] as ScheduleField) : undefined));
    if (key) add(key, match[2]);
    else add("form", detail);
    return errors;
  }
  for (const issue of detail) {
    const [where, field, sub, ...rest] = issue.loc;
    const message = issue.msg.replace(/^Value error, /, "");
    if (where !== "body" || typeof field !== "string") add("form", message);
    else if (field === "job") {
      const key = typeof sub === "string" && JOB_FIELD[sub];
      add(key || "command", key ? message : `${[sub, ...rest].filter((x) => x !== undefined).join(".") || "job"}: ${message}`);
    } else if (["name", "cron", "timezone", "misfire"].includes(field)) add(field as ScheduleField, message);
    else add("form", `${field}: ${message}`);
  }
  return errors;
}
