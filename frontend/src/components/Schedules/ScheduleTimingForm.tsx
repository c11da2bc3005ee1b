import { type FormEvent, useState } from "react";
import type { ScheduleOut } from "../../client";
import { ApiError, errorMessage, validationIssues } from "../../lib/api";
import { SchedulePreview } from "./SchedulePreview";
import { type ScheduleErrors, scheduleErrorsFrom } from "./scheduleForm";
import { useScheduleActions } from "./queries";

type Timing = { cron: string; timezone: string; misfire: "run_once" | "skip" };

/** When a schedule fires: its cron expression, time zone and missed-fire rule, changed in
 * place with the live preview; the next fire time follows from the new ones (the API's). */
export function ScheduleTimingForm({ schedule, onDone }: { schedule: ScheduleOut; onDone: () => void }) {
  const { updateTiming } = useScheduleActions();
  const [values, setValues] = useState<Timing>({
    cron: schedule.cron,
    timezone: schedule.timezone,
    misfire: schedule.misfire === "skip" ? "skip" : "run_once",
  });
  const [errors, setErrors] = useState<ScheduleErrors>({});
  const set = (field: keyof Timing) => (event: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [field]: event.target.value }));
    setErrors((e) => ({ ...e, [field]: undefined, form: undefined })); // what it said was of the old value
  };

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const local: ScheduleErrors = {};
    if (!values.cron.trim()) local.cron = "a cron expression is required";
    if (!values.timezone.trim()) local.timezone = "a time zone is required";
    setErrors(local);
    if (Object.keys(local).length) return;
    try {
      await updateTiming.mutateAsync({ id: schedule.id, cron: values.cron.trim(), timezone: values.timezone.trim(), misfire: values.misfire });
      onDone();
    } catch (error) {
      const issues = validationIssues(error);
      if (issues.length) setErrors(scheduleErrorsFrom(issues));
      else if (error instanceof ApiError && typeof error.detail === "string") setErrors(scheduleErrorsFrom(error.detail));
      else setErrors({ form: errorMessage(error) });
    }
  }

  const describe = (id: keyof Timing) => (errors[id] ? { "aria-invalid": true, "aria-describedby": `timing-${id}-error` } : {});
  const fieldError = (id: keyof Timing) =>
    errors[id] && (
      <small id={`timing-${id}-error`} className="field-error" role="alert">
        {errors[id]}
      </small>
    );

  return (
    <form className="card schedule-form" onSubmit={onSubmit} aria-label="When it runs" noValidate>
      <h2>When it runs</h2>
      <div className="schedule-when">
        <div>
          <div className="grid-2">
            <div className="field">
              <label htmlFor="timing-cron">Cron expression</label>
              <input id="timing-cron" className="mono" value={values.cron} onChange={set("cron")} spellCheck={false} {...describe("cron")} />
              {fieldError("cron")}
            </div>
            <div className="field">
              <label htmlFor="timing-timezone">Time zone</label>
              <input id="timing-timezone" value={values.timezone} onChange={set("timezone")} spellCheck={false} {...describe("timezone")} />
              {fieldError("timezone")}
            </div>
          </div>
          <div className="field">
            <label htmlFor="timing-misfire">Missed fire times</label>
            <select id="timing-misfire" value={values.misfire} onChange={set("misfire")}>
              <option value="run_once">run once when back</option>
              <option value="skip">skip</option>
            </select>
          </div>
        </div>
        <SchedulePreview cron={values.cron} timezone={values.timezone} />
      </div>
      {errors.form && (
        <p role="alert" className="error">
          {errors.form}
        </p>
      )}
      <div className="actions form-actions">
        <button type="submit" className="primary" disabled={updateTiming.isPending}>
          {updateTiming.isPending ? "Saving…" : "Save"}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
