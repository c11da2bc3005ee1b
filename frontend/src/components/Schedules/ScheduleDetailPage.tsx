import { Link, useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import type { ScheduleOut } from "../../client";
import { formatDate, timeAgo } from "../../lib/format";
import { ErrorMessage } from "../Common/ErrorMessage";
import { Pager } from "../Common/Pager";
import { useRole } from "../Common/useRole";
import { JobsTable, Labels } from "../Jobs/JobsTable";
import { usePreview, useSchedule, useScheduleJobs } from "./queries";
import { ScheduleActions } from "./ScheduleActions";
import { ScheduleTimingForm } from "./ScheduleTimingForm";
import { NextRun, ScheduleState } from "./SchedulesPage";

export function ScheduleDetailPage({ scheduleId }: { scheduleId: string }) {
  const schedule = useSchedule(scheduleId);
  if (schedule.error) {
    return (
      <>
        <Breadcrumb />
        <ErrorMessage error={schedule.error} title="Could not load the schedule" />
      </>
    );
  }
  if (!schedule.data) return <p className="muted">Loading schedule…</p>;
  return <ScheduleDetail schedule={schedule.data} />;
}

function Breadcrumb({ name }: { name?: string }) {
  return (
    <nav aria-label="Breadcrumb" className="breadcrumb">
      <Link to="/schedules">Schedules</Link> / <span>{name ?? "…"}</span>
    </nav>
  );
}

function ScheduleDetail({ schedule }: { schedule: ScheduleOut }) {
  const { can } = useRole();
  const navigate = useNavigate();
  const preview = usePreview(schedule.cron, schedule.timezone, 1);
  const [editing, setEditing] = useState(false);
  const job = schedule.job;
  return (
    <>
      <Breadcrumb name={schedule.name} />
      <div className="page-head">
        <h1 className="job-title">
          {schedule.name} <ScheduleState schedule={schedule} />
        </h1>
        {can("manageSchedules") && <ScheduleActions schedule={schedule} onDeleted={() => void navigate({ to: "/schedules" })} />}
      </div>
      {editing && <ScheduleTimingForm schedule={schedule} onDone={() => setEditing(false)} />}
      <section aria-labelledby="schedule-meta-title" className="card">
        <h2 id="schedule-meta-title" className="visually-hidden">
          Details
        </h2>
        <dl className="meta">
          <dt>Cron</dt>
          <dd>
            <code>{schedule.cron}</code> <span className="muted">{preview.data?.description}</span>{" "}
            {can("manageSchedules") && !editing && (
              <button type="button" className="link" onClick={() => setEditing(true)} aria-label={`Change when ${schedule.name} runs`}>
                change
              </button>
            )}
          </dd>
          <dt>Time zone</dt>
          <dd>{schedule.timezone}</dd>
          <dt>Next run</dt>
          <dd>
            <NextRun schedule={schedule} />
          </dd>
          <dt>Last run</dt>
          <dd title={formatDate(schedule.last_run_at)}>{schedule.last_run_at ? timeAgo(schedule.last_run_at) : "never"}</dd>
          <dt>Missed fire times</dt>
          <dd>{schedule.misfire === "skip" ? "skipped" : "run once when back"}</dd>
          <dt>Created</dt>
          <dd>{formatDate(schedule.created_at)}</dd>
          <dt>{job.command != null ? "Command" : "Argv"}</dt>
          <dd className="mono wrap">{job.command ?? JSON.stringify(job.argv)}</dd>
          <dt>Labels</dt>
          <dd>
            <Labels labels={job.labels ?? []} />
          </dd>
          <dt>Timeout</dt>
          <dd>{job.timeout_seconds ? `${job.timeout_seconds}s` : "none"}</dd>
          <dt>Retries</dt>
          <dd>{job.max_retries ?? 0}</dd>
          {!!job.secrets?.length && (
            <>
              <dt>Secrets</dt>
              <dd className="mono">{job.secrets.join(", ")}</dd>
            </>
          )}
        </dl>
      </section>
      <History schedule={schedule} />
    </>
  );
}

function History({ schedule }: { schedule: ScheduleOut }) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const page = useScheduleJobs(schedule.id, cursors[cursors.length - 1]);
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <ErrorMessage error={page.error} title="Could not load its jobs" />
      {page.data && page.data.items.length === 0 && <p className="empty">It has made no job yet.</p>}
      {!!page.data?.items.length && <JobsTable jobs={page.data.items} caption={`Jobs made by ${schedule.name}`} />}
      {page.data && (cursors.length > 1 || page.data.next_cursor) && (
        <Pager cursors={cursors} setCursors={setCursors} nextCursor={page.data.next_cursor} back="← Newer" forward="Older →" />
      )}
    </section>
  );
}
