import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { getSchedule, type JobOut } from "../../client";
import { errorMessage } from "../../lib/api";
import { handleApiError } from "../../lib/queryClient";
import { formatDate, formatDuration, jobTitle } from "../../lib/format";
import { ErrorMessage } from "../Common/ErrorMessage";
import { useRole } from "../Common/useRole";
import { StatusBadge } from "../Common/StatusBadge";
import { RetryCountdown } from "./RetryCountdown";
import { downloadLog } from "./download";
import { Labels } from "./JobsTable";
import { LogViewer } from "./LogViewer";
import { isFinal, useCancelJob, useJob, useRerunJob } from "./queries";
import { useJobLog } from "./useJobLog";

export function JobDetailPage({ jobId }: { jobId: string }) {
  const job = useJob(jobId);
  if (job.error) return <ErrorMessage error={job.error} title="Could not load the job" />;
  if (!job.data) return <p className="muted">Loading job…</p>;
  return <JobDetail job={job.data} />;
}

function JobDetail({ job }: { job: JobOut }) {
  const navigate = useNavigate();
  const cancel = useCancelJob(job.id);
  const rerun = useRerunJob(job.id);
  const [chosenAttempt, setChosenAttempt] = useState<number | null>(null);
  const attempt = chosenAttempt ?? job.attempt;
  const final = isFinal(job.status);
  const { can } = useRole();

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/jobs">Jobs</Link> / <span className="mono">{job.id}</span>
      </nav>
      <div className="page-head">
        <h1 className="job-title">
          <span className="mono">{jobTitle(job)}</span> <StatusBadge status={job.status} />{" "}
          <RetryCountdown job={job} />
        </h1>
        {can("controlJobs") && (
        <div className="actions">
          <button type="button" className="danger" disabled={final || cancel.isPending} onClick={() => cancel.mutate()}>
            {cancel.isPending ? "Cancelling…" : "Cancel"}
          </button>
          <button
            type="button"
            disabled={rerun.isPending}
            onClick={() =>
              rerun.mutate(undefined, {
                onSuccess: (created) => void navigate({ to: "/jobs/$jobId", params: { jobId: created.id } }),
              })
            }
          >
            {rerun.isPending ? "Starting…" : "Rerun"}
          </button>
        </div>
        )}
      </div>
      <ErrorMessage error={cancel.error} title="Cancel failed" />
      <ErrorMessage error={rerun.error} title="Rerun failed" />
      <JobMetadata job={job} />
      <Attempts job={job} />
      <JobLog
        key={`${job.id}:${attempt}`}
        job={job}
        attempt={attempt}
        onChooseAttempt={(n) => setChosenAttempt(n === job.attempt ? null : n)}
      />
    </>
  );
}

function JobMetadata({ job }: { job: JobOut }) {
  const envNames = Object.keys(job.env);
  return (
    <section aria-labelledby="meta-title" className="card">
      <h2 id="meta-title" className="visually-hidden">
        Details
      </h2>
      <dl className="meta">
        <dt>{job.command != null ? "Command" : "Argv"}</dt>
        <dd className="mono wrap">{job.command ?? JSON.stringify(job.argv)}</dd>
        <dt>Worker</dt>
        <dd>{job.worker_name ?? job.worker ?? "—"}</dd>
        <dt>Exit code</dt>
        <dd className="mono">{job.exit_code ?? "—"}</dd>
        <dt>Created</dt>
        <dd>{formatDate(job.created_at)}</dd>
        <dt>Started</dt>
        <dd>{formatDate(job.started_at)}</dd>
        <dt>Finished</dt>
        <dd>{formatDate(job.finished_at)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(job.started_at, job.finished_at)}</dd>
        <dt>Labels</dt>
        <dd>
          <Labels labels={job.labels} />
        </dd>
        <dt>Timeout</dt>
        <dd>{job.timeout_seconds ? `${job.timeout_seconds}s` : "none"}</dd>
        <dt>Retries · priority</dt>
        <dd>
          {job.max_retries} · {job.priority}
        </dd>
        <dt>Environment</dt>
        <dd className="mono wrap">{envNames.length ? envNames.map((k) => `${k}=${job.env[k]}`).join("  ") : "—"}</dd>
        {job.secrets.length > 0 && (
          <>
            <dt>Secrets</dt>
            <dd className="mono">{job.secrets.join(", ")}</dd>
          </>
        )}
        {job.schedule_id && (
          <>
            <dt>Schedule</dt>
            <dd>
              <ScheduleLink scheduleId={job.schedule_id} />
            </dd>
          </>
        )}
        {job.rerun_of && (
          <>
            <dt>Rerun of</dt>
            <dd>
              <Link to="/jobs/$jobId" params={{ jobId: job.rerun_of }} className="mono">
                {job.rerun_of}
              </Link>
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

/** The schedule that made the job, by name (its id if it is gone). */
function ScheduleLink({ scheduleId }: { scheduleId: string }) {
  const schedule = useQuery({
    queryKey: ["schedule", scheduleId],
    queryFn: async () => (await getSchedule({ path: { schedule_id: scheduleId }, throwOnError: true })).data,
    retry: false,
    staleTime: 60_000,
  });
  if (schedule.error) return <span className="mono" title="The schedule was deleted">{scheduleId} (deleted)</span>;
  return (
    <Link to="/schedules/$scheduleId" params={{ scheduleId }} aria-label="Schedule that made the job">
      {schedule.data?.name ?? scheduleId}
    </Link>
  );
}

function Attempts({ job }: { job: JobOut }) {
  return (
    <section aria-labelledby="attempts-title">
      <h2 id="attempts-title">Attempts</h2>
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Status</th>
              <th scope="col">Worker</th>
              <th scope="col">Exit code</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {job.attempts.map((a) => (
              <tr key={a.number}>
                <td>{a.number}</td>
                <td>
                  <StatusBadge status={a.status} />
                  {a.error && <span className="muted"> {a.error}</span>}
                </td>
                <td>{a.worker_name ?? a.worker ?? "—"}</td>
                <td className="mono">{a.exit_code ?? "—"}</td>
                <td className="nowrap">{formatDate(a.started_at)}</td>
                <td className="nowrap">{formatDuration(a.started_at, a.finished_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function JobLog({ job, attempt, onChooseAttempt }: { job: JobOut; attempt: number; onChooseAttempt: (n: number) => void }) {
  const queryClient = useQueryClient();
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["job", job.id] });
  const log = useJobLog(job.id, attempt, {
    live: attempt === job.attempt,
    onEnd: refresh,
    onAttempt: refresh,
  });
  // The end as the stream told it, or (a log read when it was already over) as the job says.
  const shown = job.attempts[attempt - 1];
  const end = log.end ?? (shown && isFinal(shown.status) ? { status: shown.status, exit_code: shown.exit_code } : undefined);
  const status =
    log.phase === "loading" ? "Loading…"
    : log.phase === "live" ? "● Live"
    : log.phase === "error" ? `Error: ${errorMessage(log.error)}`
    : end ? `Ended: ${end.status.replace("_", " ")}${end.exit_code != null ? ` (exit ${end.exit_code})` : ""}`
    : "Complete";

  return (
    <section aria-labelledby="log-title" className="log-section">
      <h2 id="log-title">Output</h2>
      <LogViewer
        lines={log.lines}
        version={log.version}
        status={status}
        loading={log.phase === "loading"}
        toolbar={
          <>
            {job.attempts.length > 1 && (
              <label className="inline">
                Attempt{" "}
                <select value={attempt} onChange={(e) => onChooseAttempt(Number(e.target.value))}>
                  {job.attempts.map((a) => (
                    <option key={a.number} value={a.number}>
                      {a.number}
                    </option>
                  ))}
                </select>
              </label>
            )}
            <button
              type="button"
              onClick={() =>
                downloadLog(job.id, attempt).then(
                  () => setDownloadError(null),
                  (e: unknown) => {
                    handleApiError(e);
                    setDownloadError(e);
                  },
                )
              }
            >
              Download
            </button>
          </>
        }
      />
      <ErrorMessage error={downloadError} title="Download failed" />
    </section>
  );
}
