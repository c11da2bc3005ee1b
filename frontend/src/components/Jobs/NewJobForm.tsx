import { type FormEvent, type ReactNode, useState } from "react";
import type { JobOut, JobSpec } from "../../client";
import { ApiError, errorMessage, validationIssues } from "../../lib/api";
import {
  EMPTY_FORM, type FieldErrors, fieldErrorFromText, fieldErrorsFrom, type JobFormValues, toJobSpec,
} from "./jobForm";

interface Props {
  submit: (spec: JobSpec) => Promise<JobOut>;
  onCreated: (job: JobOut) => void;
}

export function NewJobForm({ submit, onCreated }: Props) {
  const [values, setValues] = useState<JobFormValues>(EMPTY_FORM);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const set = (field: keyof JobFormValues) => (event: { target: { value: string } }) =>
    setValues((v) => ({ ...v, [field]: event.target.value }));

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const { spec, errors: local } = toJobSpec(values);
    setErrors(local);
    if (!spec) return;
    setBusy(true);
    try {
      onCreated(await submit(spec));
    } catch (error) {
      const issues = validationIssues(error);
      if (issues.length) setErrors(fieldErrorsFrom(issues));
      else if (error instanceof ApiError && error.status === 422 && typeof error.detail === "string") {
        setErrors(fieldErrorFromText(error.detail));
      } else setErrors({ form: errorMessage(error) });
    } finally {
      setBusy(false);
    }
  }

  const field = (id: keyof JobFormValues, label: string, control: ReactNode, hint?: string) => (
    <div className="field">
      <label htmlFor={`job-${id}`}>{label}</label>
      {control}
      {hint && (
        <small id={`job-${id}-hint`} className="muted">
          {hint}
        </small>
      )}
      {errors[id] && (
        <small id={`job-${id}-error`} className="field-error" role="alert">
          {errors[id]}
        </small>
      )}
    </div>
  );
  const aria = (id: keyof JobFormValues, hint = false) => ({
    id: `job-${id}`,
    "aria-invalid": errors[id] ? true : undefined,
    "aria-describedby": [hint && `job-${id}-hint`, errors[id] && `job-${id}-error`].filter(Boolean).join(" ") || undefined,
  });

  return (
    <form className="card job-form" onSubmit={onSubmit} aria-label="New job" noValidate>
      <fieldset className="mode">
        <legend>Run</legend>
        <label className="inline">
          <input type="radio" name="mode" value="command" checked={values.mode === "command"} onChange={set("mode")} /> a shell
          command
        </label>
        <label className="inline">
          <input type="radio" name="mode" value="argv" checked={values.mode === "argv"} onChange={set("mode")} /> a program
          with arguments (argv)
        </label>
      </fieldset>
      {values.mode === "command"
        ? field(
            "command",
            "Command",
            <textarea {...aria("command", true)} rows={3} className="mono" value={values.command} onChange={set("command")} />,
            "Run with /bin/sh -c.",
          )
        : field(
            "argv",
            "Arguments",
            <textarea {...aria("argv", true)} rows={4} className="mono" value={values.argv} onChange={set("argv")} />,
            "One per line, the program first; no shell.",
          )}
      <div className="grid-2">
        {field("name", "Name", <input {...aria("name", true)} value={values.name} onChange={set("name")} />, "Optional.")}
        {field(
          "labels",
          "Labels",
          <input {...aria("labels", true)} value={values.labels} onChange={set("labels")} />,
          "Comma-separated; only a worker with all of them runs the job.",
        )}
      </div>
      {field(
        "env",
        "Environment",
        <textarea {...aria("env", true)} rows={3} className="mono" value={values.env} onChange={set("env")} />,
        "NAME=value, one per line.",
      )}
      {field(
        "secrets",
        "Secrets",
        <input {...aria("secrets", true)} className="mono" value={values.secrets} onChange={set("secrets")} />,
        "Names of your secrets (see Secrets), comma-separated: each becomes an environment variable, shown as *** in the log.",
      )}
      <div className="grid-3">
        {field(
          "timeout",
          "Timeout (seconds)",
          <input {...aria("timeout", true)} inputMode="numeric" value={values.timeout} onChange={set("timeout")} />,
          "Empty: no timeout.",
        )}
        {field("retries", "Retries", <input {...aria("retries")} inputMode="numeric" value={values.retries} onChange={set("retries")} />)}
        {field(
          "priority",
          "Priority",
          <input {...aria("priority", true)} inputMode="numeric" value={values.priority} onChange={set("priority")} />,
          "0–9, higher runs first.",
        )}
      </div>
      {errors.form && (
        <p role="alert" className="error">
          {errors.form}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Submitting…" : "Submit job"}
        </button>
      </div>
    </form>
  );
}
