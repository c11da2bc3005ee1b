import { type FormEvent, type ReactNode, useState } from "react";
import type { ScheduleIn, ScheduleOut } from "../../client";
import { ApiError, errorMessage, validationIssues } from "../../lib/api";
import { browserTimeZone } from "../../lib/format";
import { SchedulePreview } from "./SchedulePreview";
import { emptySchedule, type ScheduleErrors, scheduleErrorsFrom, type ScheduleFormValues, toScheduleIn } from "./scheduleForm";

interface Props {
  create: (body: ScheduleIn) => Promise<ScheduleOut>;
  onCreated: (schedule: ScheduleOut) => void;
  onCancel: () => void;
}

/** The new-schedule form, with the live preview of its next fire times. */
export function ScheduleForm({ create, onCreated, onCancel }: Props) {
  const [values, setValues] = useState<ScheduleFormValues>(() => emptySchedule(browserTimeZone()));
  const [errors, setErrors] = useState<ScheduleErrors>({});
  const [busy, setBusy] = useState(false);
  const set = (field: keyof ScheduleFormValues) => (event: { target: { value: string } }) =>
    setValues((v) => ({ ...v, [field]: event.target.value }));

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const { body, errors: local } = toScheduleIn(values);
    setErrors(local);
    if (!body) return;
    setBusy(true);
    try {
      onCreated(await create(body));
    } catch (error) {
      const issues = validationIssues(error);
      if (issues.length) setErrors(scheduleErrorsFrom(issues));
      else if (error instanceof ApiError && typeof error.detail === "string") {
        setErrors(error.status === 409 ? { name: error.detail } : scheduleErrorsFrom(error.detail));
      } else setErrors({ form: errorMessage(error) });
    } finally {
      setBusy(false);
    }
  }

  const field = (id: keyof ScheduleFormValues, label: string, control: ReactNode, hint?: ReactNode) => (
    <div className="field">
      <label htmlFor={`schedule-${id}`}>{label}</label>
      {control}
      {hint && (
        <small id={`schedule-${id}-hint`} className="muted">
          {hint}
        </small>
      )}
      {errors[id] && (
        <small id={`schedule-${id}-error`} className="field-error" role="alert">
          {errors[id]}
        </small>
      )}
    </div>
  );
  const aria = (id: keyof ScheduleFormValues, hint = false) => ({
    id: `schedule-${id}`,
    "aria-invalid": errors[id] ? true : undefined,
    "aria-describedby": [hint && `schedule-${id}-hint`, errors[id] && `schedule-${id}-error`].filter(Boolean).join(" ") || undefined,
  });

  return (
    <form className="card schedule-form" onSubmit={onSubmit} aria-label="New schedule" noValidate>
      <h2>New schedule</h2>
      <div className="schedule-when">
        <div>
          {field("name", "Name", <input {...aria("name", true)} value={values.name} onChange={set("name")} maxLength={100} />, "Unique in the tenant.")}
          <div className="grid-2">
            {field(
              "cron",
              "Cron expression",
              <input {...aria("cron", true)} className="mono" value={values.cron} onChange={set("cron")} placeholder="30 2 * * 1-5" spellCheck={false} />,
              <>
                minute hour day month weekday, or <code>@daily</code>, <code>@hourly</code>…
              </>,
            )}
            {field(
              "timezone",
              "Time zone",
              <input {...aria("timezone", true)} value={values.timezone} onChange={set("timezone")} list="schedule-zones" spellCheck={false} />,
              "An IANA zone, e.g. Europe/Berlin.",
            )}
          </div>
        </div>
        <SchedulePreview cron={values.cron} timezone={values.timezone} />
      </div>
      <datalist id="schedule-zones">
        {zones().map((zone) => (
          <option key={zone} value={zone} />
        ))}
      </datalist>
      {field(
        "command",
        "Command",
        <textarea {...aria("command", true)} rows={2} className="mono" value={values.command} onChange={set("command")} />,
        "The job each fire time makes, run with /bin/sh -c.",
      )}
      <div className="grid-2">
        {field("labels", "Labels", <input {...aria("labels", true)} value={values.labels} onChange={set("labels")} />, "Comma-separated; only a worker with all of them runs it.")}
        {field("secrets", "Secrets", <input {...aria("secrets", true)} className="mono" value={values.secrets} onChange={set("secrets")} />, "Secret names, comma-separated.")}
      </div>
      <div className="grid-3">
        {field("timeout", "Timeout (seconds)", <input {...aria("timeout", true)} inputMode="numeric" value={values.timeout} onChange={set("timeout")} />, "Empty: no timeout.")}
        {field("retries", "Retries", <input {...aria("retries")} inputMode="numeric" value={values.retries} onChange={set("retries")} />)}
        {field(
          "misfire",
          "Missed fire times",
          <select {...aria("misfire", true)} value={values.misfire} onChange={set("misfire")}>
            <option value="run_once">run once when back</option>
            <option value="skip">skip</option>
          </select>,
          "While the platform was down.",
        )}
      </div>
      <label className="inline">
        <input type="checkbox" checked={values.enabled} onChange={(e) => setValues((v) => ({ ...v, enabled: e.target.checked }))} /> Start
        enabled (otherwise paused)
      </label>
      {errors.form && (
        <p role="alert" className="error">
          {errors.form}
        </p>
      )}
      <div className="actions form-actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Creating…" : "Create schedule"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** The zones this browser knows, for the time zone field's suggestions. */
function zones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  try {
    return ["UTC", ...(intl.supportedValuesOf?.("timeZone") ?? [])];
  } catch {
    return ["UTC"];
  }
}
