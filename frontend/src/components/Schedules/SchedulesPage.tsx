import { Link, useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import type { ScheduleOut } from "../../client";
import { formatDate, formatDateIn, relativeTime, timeAgo } from "../../lib/format";
import { ErrorMessage } from "../Common/ErrorMessage";
import { useNow } from "../Common/useNow";
import { useRole } from "../Common/useRole";
import { useScheduleActions, usePreview, useSchedules } from "./queries";
import { ScheduleActions } from "./ScheduleActions";
import { ScheduleForm } from "./ScheduleForm";

export function SchedulesPage() {
  const schedules = useSchedules();
  const { can } = useRole();
  const admin = can("manageSchedules");
  const { create } = useScheduleActions();
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();

  return (
    <>
      <div className="page-head">
        <h1>Schedules</h1>
        {admin && !creating && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New schedule
          </button>
        )}
      </div>
      {creating && (
        <ScheduleForm
          create={(body) => create.mutateAsync(body)}
          onCreated={(schedule) => {
            setCreating(false);
            void navigate({ to: "/schedules/$scheduleId", params: { scheduleId: schedule.id } });
          }}
          onCancel={() => setCreating(false)}
        />
      )}
      <ErrorMessage error={schedules.error} title="Could not load schedules" />
      {schedules.data?.length === 0 && (
        <p className="empty">{admin ? "No schedules yet. A schedule makes a job at each time its cron expression names." : "No schedules yet."}</p>
      )}
      {!!schedules.data?.length && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Schedules</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">When</th>
                <th scope="col" className="hide-phone">Time zone</th>
                <th scope="col">State</th>
                <th scope="col">Next run</th>
                <th scope="col" className="hide-phone">Last job</th>
                {admin && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {schedules.data.map((schedule) => (
                <ScheduleRow key={schedule.id} schedule={schedule} admin={admin} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {schedules.isPending && <p className="muted">Loading schedules…</p>}
    </>
  );
}

function ScheduleRow({ schedule, admin }: { schedule: ScheduleOut; admin: boolean }) {
  const preview = usePreview(schedule.cron, schedule.timezone, 1);
  return (
    <tr aria-label={`Schedule ${schedule.name}`}>
      <td>
        <Link to="/schedules/$scheduleId" params={{ scheduleId: schedule.id }}>
          <strong>{schedule.name}</strong>
        </Link>
        <div className="muted small mono cell-title">{schedule.job.command ?? schedule.job.argv?.join(" ")}</div>
      </td>
      <td>
        <code>{schedule.cron}</code>
        <div className="muted small">{preview.data?.description ?? "\u00a0"}</div>
      </td>
      <td className="hide-phone">{schedule.timezone}</td>
      <td>
        <ScheduleState schedule={schedule} />
      </td>
      <td className="nowrap">
        <NextRun schedule={schedule} />
      </td>
      <td className="nowrap hide-phone">
        {schedule.last_job_id ? (
          <>
            <Link to="/jobs/$jobId" params={{ jobId: schedule.last_job_id }} className="mono" aria-label={`Last job of ${schedule.name}`}>
              {schedule.last_job_id.slice(-8)}
            </Link>
            <div className="muted small" title={formatDate(schedule.last_run_at)}>
              {timeAgo(schedule.last_run_at)}
            </div>
          </>
        ) : (
          <span className="muted">none yet</span>
        )}
      </td>
      {admin && (
        <td className="nowrap">
          <ScheduleActions schedule={schedule} />
        </td>
      )}
    </tr>
  );
}

export function ScheduleState({ schedule }: { schedule: ScheduleOut }) {
  return (
    <>
      <span className={`badge ${schedule.enabled ? "status-active" : "status-paused"}`}>{schedule.enabled ? "active" : "paused"}</span>
      {schedule.last_error && (
        <div className="field-error small" title={schedule.last_error}>
          last fire time failed: {schedule.last_error}
        </div>
      )}
    </>
  );
}

/** The next fire time: relative, and the schedule zone's wall clock (local time on hover). */
export function NextRun({ schedule }: { schedule: ScheduleOut }) {
  const now = useNow(5000);
  if (!schedule.next_run_at) return <span className="muted">{schedule.enabled ? "none" : "paused"}</span>;
  return (
    <span title={`${formatDate(schedule.next_run_at)} (your time)`}>
      {relativeTime(schedule.next_run_at, now)}
      <div className="muted small">{formatDateIn(schedule.next_run_at, schedule.timezone)}</div>
    </span>
  );
}
