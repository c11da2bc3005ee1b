import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { getStats, type JobStatus } from "../../client";
import { StatusBadge } from "../Common/StatusBadge";
import { ErrorMessage } from "../Common/ErrorMessage";
import { JobsTable } from "../Jobs/JobsTable";
import { ALL_STATUSES, useJobsPage, useWorkers } from "../Jobs/queries";
import { DurationChart } from "./DurationChart";
import { FailureRateChart } from "./FailureRateChart";
import { JobsPerMinuteChart } from "./JobsPerMinuteChart";

const OVERVIEW_POLL_MS = 5000;

export function Overview() {
  // Counted by the API (GET /stats) on its own clock; the recent jobs follow the live feed.
  const stats = useQuery({
    queryKey: ["overview", "stats"],
    queryFn: async () => (await getStats({ throwOnError: true })).data,
    refetchInterval: OVERVIEW_POLL_MS,
  });
  const recent = useJobsPage({}, undefined, 8);
  const workers = useWorkers();
  const byStatus = (status: string) => workers.data?.filter((w) => w.status === status).length ?? 0;
  const count = (status: JobStatus) => stats.data?.by_status[status];
  const error = stats.error ?? recent.error ?? workers.error;

  return (
    <>
      <h1>Overview</h1>
      <ErrorMessage error={error} title="Could not load everything" />
      <div className="tiles">
        <section className="tile" aria-labelledby="tile-waiting">
          <h2 id="tile-waiting">Jobs waiting</h2>
          <p className="big">{count("queued") ?? "…"}</p>
          <Link to="/jobs" search={{ status: "queued" }}>
            See queued jobs
          </Link>
        </section>
        <section className="tile" aria-labelledby="tile-workers">
          <h2 id="tile-workers">Workers</h2>
          <p className="big">
            {byStatus("online")} <span className="big-unit">online</span>
          </p>
          <p className="muted">
            {byStatus("offline")} offline · {byStatus("draining")} draining
          </p>
          <Link to="/workers">See workers</Link>
        </section>
        <section className="tile tile-wide" aria-labelledby="tile-status">
          <h2 id="tile-status">Jobs by status</h2>
          <ul className="status-counts">
            {ALL_STATUSES.map((status) => {
              const c = count(status);
              return (
                <li key={status}>
                  <Link to="/jobs" search={{ status }} aria-label={`${status.replace("_", " ")}: ${c ?? "loading"}`}>
                    <StatusBadge status={status} />
                    <span className="count">{c ?? "…"}</span>
                  </Link>
                </li>
              );
            })}
          </ul>
        </section>
      </div>
      <div className="charts">
        <section className="card" aria-labelledby="chart-title">
          <h2 id="chart-title">Jobs per minute</h2>
          {stats.data ? <JobsPerMinuteChart buckets={stats.data.created_per_minute} /> : <p className="muted">Loading…</p>}
        </section>
        <section className="card" aria-labelledby="chart-duration-title">
          <h2 id="chart-duration-title">Run time</h2>
          {stats.data ? (
            <DurationChart
              p50={stats.data.duration_p50_seconds}
              p95={stats.data.duration_p95_seconds}
              ended={stats.data.ended_per_minute}
            />
          ) : (
            <p className="muted">Loading…</p>
          )}
        </section>
        <section className="card" aria-labelledby="chart-failures-title">
          <h2 id="chart-failures-title">Failure rate</h2>
          {stats.data ? (
            <FailureRateChart ended={stats.data.ended_per_minute} failed={stats.data.failed_per_minute} />
          ) : (
            <p className="muted">Loading…</p>
          )}
        </section>
      </div>
      <section aria-labelledby="recent-title">
        <div className="page-head">
          <h2 id="recent-title">Recent jobs</h2>
          <Link to="/jobs">All jobs →</Link>
        </div>
        {recent.data && recent.data.items.length > 0 ? (
          <JobsTable jobs={recent.data.items} caption="Recent jobs" />
        ) : (
          recent.data && <p className="empty">No jobs yet.</p>
        )}
      </section>
    </>
  );
}
