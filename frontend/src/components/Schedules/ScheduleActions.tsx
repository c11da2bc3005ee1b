import { Link, useNavigate } from "@tanstack/react-router";
import type { ScheduleOut } from "../../client";
import { ConfirmButton } from "../Common/ConfirmButton";
import { ErrorMessage } from "../Common/ErrorMessage";
import { useScheduleActions } from "./queries";

interface Props {
  schedule: ScheduleOut;
  /** After delete, e.g. back to the list from the detail page. */
  onDeleted?: () => void;
}

/** Pause/resume, trigger now and delete: an admin's (the caller checks the role). */
export function ScheduleActions({ schedule, onDeleted }: Props) {
  const { setEnabled, trigger, remove } = useScheduleActions();
  const navigate = useNavigate();
  const made = trigger.data && trigger.variables === schedule.id ? trigger.data : null;
  return (
    <div className="schedule-actions">
      <div className="actions">
        <button
          type="button"
          onClick={() => setEnabled.mutate({ id: schedule.id, enabled: !schedule.enabled })}
          disabled={setEnabled.isPending}
          aria-label={`${schedule.enabled ? "Pause" : "Resume"} ${schedule.name}`}
        >
          {schedule.enabled ? "Pause" : "Resume"}
        </button>
        <button
          type="button"
          onClick={() => trigger.mutate(schedule.id)}
          disabled={trigger.isPending}
          aria-label={`Trigger ${schedule.name} now`}
          title="Make its job now; the fire times stay as they are"
        >
          {trigger.isPending ? "Starting…" : "Trigger now"}
        </button>
        <ConfirmButton
          label="Delete"
          name={`Delete ${schedule.name}`}
          confirm="Yes, delete"
          className="danger"
          onConfirm={() => remove.mutate(schedule.id, { onSuccess: () => onDeleted?.() })}
          busy={remove.isPending}
        />
      </div>
      {made && (
        <p className="small" role="status">
          Made job{" "}
          <Link to="/jobs/$jobId" params={{ jobId: made.id }} className="mono">
            {made.id}
          </Link>{" "}
          <button type="button" className="link" onClick={() => void navigate({ to: "/jobs/$jobId", params: { jobId: made.id } })}>
            open it
          </button>
        </p>
      )}
      <ErrorMessage error={setEnabled.error} title={schedule.enabled ? "Pause failed" : "Resume failed"} />
      <ErrorMessage error={trigger.error} title="Trigger failed" />
      <ErrorMessage error={remove.error} title="Delete failed" />
    </div>
  );
}
