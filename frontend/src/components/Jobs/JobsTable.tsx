import { Link } from "@tanstack/react-router";
import { useEffect, useRef } from "react";
import type { JobOut } from "../../client";
import { formatDate, formatDuration, jobTitle } from "../../lib/format";
import { StatusBadge } from "../Common/StatusBadge";

export interface Selection {
  selected: ReadonlySet<string>;
  /** Selects or unselects these jobs. */
  set: (ids: string[], on: boolean) => void;
}

interface Props {
  jobs: JobOut[];
  caption: string;
  /** Checkboxes to pick rows (the jobs page's bulk actions). */
  selection?: Selection;
  /** Which time the time column shows: when the job was created (default) or ended. */
  time?: "created" | "finished";
}

export function JobsTable({ jobs, caption, selection, time = "created" }: Props) {
  return (
    <div className="table-wrap">
      <table className="table jobs-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {selection && (
              <th scope="col" className="cell-pick">
                <SelectAll jobs={jobs} selection={selection} />
              </th>
            )}
            <th scope="col">Status</th>
            <th scope="col">Name or command</th>
            <th scope="col" className="hide-phone">Labels</th>
            <th scope="col" className="hide-phone">Worker</th>
            <th scope="col">{time === "finished" ? "Ended" : "Created"}</th>
            <th scope="col" className="hide-phone">Duration</th>
            <th scope="col" className="hide-phone">Exit code</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => {
            const picked = selection?.selected.has(job.id) ?? false;
            return (
              <tr key={job.id} className={picked ? "selected" : undefined}>
                {selection && (
                  <td className="cell-pick">
                    <input
                      type="checkbox"
                      checked={picked}
                      onChange={(e) => selection.set([job.id], e.target.checked)}
                      aria-label={`Select ${jobTitle(job)}`}
                    />
                  </td>
                )}
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
                <td className="nowrap">{formatDate(time === "finished" ? job.finished_at : job.created_at)}</td>
                <td className="nowrap hide-phone">{formatDuration(job.started_at, job.finished_at)}</td>
                <td className="mono hide-phone">{job.exit_code ?? "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function SelectAll({ jobs, selection }: { jobs: JobOut[]; selection: Selection }) {
  const box = useRef<HTMLInputElement>(null);
  const picked = jobs.filter((job) => selection.selected.has(job.id)).length;
  const all = jobs.length > 0 && picked === jobs.length;
  useEffect(() => {
    if (box.current) box.current.indeterminate = picked > 0 && !all;
  }, [picked, all]);
  return (
    <input
      ref={box}
      type="checkbox"
      checked={all}
      onChange={() => selection.set(jobs.map((job) => job.id), !all)}
      aria-label="Select every job on this page"
    />
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
