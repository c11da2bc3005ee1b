import { Link } from "@tanstack/react-router";
import type { JobOut } from "../../client";
import { formatDate, formatDuration, jobTitle } from "../../lib/format";
import { StatusBadge } from "../Common/StatusBadge";

export function JobsTable({ jobs, caption }: { jobs: JobOut[]; caption: string }) {
  return (
    <div className="table-wrap">
      <table className="table jobs-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Name or command</th>
            <th scope="col" className="hide-phone">Labels</th>
            <th scope="col" className="hide-phone">Worker</th>
            <th scope="col">Created</th>
            <th scope="col" className="hide-phone">Duration</th>
            <th scope="col" className="hide-phone">Exit code</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <tr key={job.id}>
              <td>
                <StatusBadge status={job.status} />
              </td>
              <td className="cell-title">
                <Link to="/jobs/$jobId" params={{ jobId: job.id }} className="mono">
                  {jobTitle(job)}
                </Link>
              </td>
              <td className="hide-phone">
                <Labels labels={job.labels} />
              </td>
              <td className="hide-phone">{job.worker_name ?? job.worker ?? "—"}</td>
              <td className="nowrap">{formatDate(job.created_at)}</td>
              <td className="nowrap hide-phone">{formatDuration(job.started_at, job.finished_at)}</td>
              <td className="mono hide-phone">{job.exit_code ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Labels({ labels }: { labels: string[] }) {
  if (!labels.length) return <span className="muted">—</span>;
  return (
    <ul className="labels" aria-label="Labels">
      {labels.map((label) => (
        <li key={label} className="label">
          {label}
        </li>
      ))}
    </ul>
  );
}
