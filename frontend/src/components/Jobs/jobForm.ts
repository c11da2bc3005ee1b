// The new-job form's values and their conversion to the API's JobSpec, and the API's 422
// details mapped back to form fields.
import type { JobSpec } from "../../client";
import type { ValidationIssue } from "../../lib/api";

export interface JobFormValues {
  mode: "command" | "argv";
  command: string;
  argv: string; // one argument per line
  name: string;
  labels: string; // comma or space separated
  env: string; // KEY=value per line
  secrets: string; // secret names, comma or space separated
  timeout: string;
  retries: string;
  priority: string;
}

export const EMPTY_FORM: JobFormValues = {
  mode: "command", command: "", argv: "", name: "", labels: "", env: "", secrets: "", timeout: "", retries: "0", priority: "0",
};

export type FieldErrors = Partial<Record<keyof JobFormValues | "form", string>>;

const NUMBER = /^-?\d+$/;

/** The JobSpec to send, or the errors found before sending (the API checks the rest). */
export function toJobSpec(values: JobFormValues): { spec?: JobSpec; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const env: Record<string, string> = {};
  values.env.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const eq = line.indexOf("=");
    if (eq <= 0) errors.env = `line ${i + 1}: write NAME=value`;
    else env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  });
  const int = (field: "timeout" | "retries" | "priority", text: string) => {
    if (!text.trim()) return undefined;
    if (!NUMBER.test(text.trim())) errors[field] = "a whole number";
    return Number(text.trim());
  };
  const spec: JobSpec = {
    labels: values.labels.split(/[\s,]+/).filter(Boolean),
    env,
  };
  if (values.mode === "command") spec.command = values.command.trim() ? values.command : undefined;
  else spec.argv = values.argv.split("\n").filter((arg) => arg !== "");
  if (values.mode === "command" && !spec.command) errors.command = "a command to run";
  if (values.mode === "argv" && !spec.argv?.length) errors.argv = "at least one argument";
  if (values.name.trim()) spec.name = values.name.trim();
  const secrets = values.secrets.split(/[\s,]+/).filter(Boolean);
  if (secrets.length) spec.secrets = secrets;
  const timeout = int("timeout", values.timeout);
  if (timeout !== undefined) spec.timeout_seconds = timeout;
  const retries = int("retries", values.retries);
  if (retries !== undefined) spec.max_retries = retries;
  const priority = int("priority", values.priority);
  if (priority !== undefined) spec.priority = priority;
  return Object.keys(errors).length ? { errors } : { spec, errors };
}

const FIELD_OF: Record<string, keyof JobFormValues> = {
  command: "command", argv: "argv", name: "name", labels: "labels", env: "env", secrets: "secrets",
  timeout_seconds: "timeout", max_retries: "retries", priority: "priority",
};

/** FastAPI's 422 detail ({loc: ["body", field, ...], msg}) as messages next to the fields. */
export function fieldErrorsFrom(issues: ValidationIssue[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const [where, field, ...rest] = issue.loc;
    const key: keyof FieldErrors = where === "body" && typeof field === "string" && FIELD_OF[field] ? FIELD_OF[field] : "form";
    const message = issue.msg.replace(/^Value error, /, "") + (rest.length ? ` (${rest.join(".")})` : "");
    errors[key] = errors[key] ? `${errors[key]}; ${message}` : message;
  }
  return errors;
}

/** A 422 whose detail is one sentence naming its field ("secrets: unknown secret X ..."). */
export function fieldErrorFromText(detail: string): FieldErrors {
  const match = /^(\w+): (.+)$/s.exec(detail);
  const field = match && FIELD_OF[match[1]];
  return field ? { [field]: match[2] } : { form: detail };
}
