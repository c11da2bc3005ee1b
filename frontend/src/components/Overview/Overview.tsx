import { useQueries, useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { listJobs, type JobOut } from "../../client";
import { StatusBadge } from "../Common/StatusBadge";
import { ErrorMessage } from "../Common/ErrorMessage";
import { JobsTable } from "../Jobs/JobsTable";
import { ALL_STATUSES, useWorkers } from "../Jobs/queries";
import { JobsPerMinuteChart } from "./JobsPerMinuteChart";
import { perMinute } from "./perMinute";

const COUNT_LIMIT = 500;
const HOUR_PAGES = 4; // at most 2,000 jobs read for the chart

/** The jobs created in the last hour, newest first (paged until older than an hour). */
async function lastHourJobs(): Promise<JobOut[]> {
  const since = Date.now() - 3600_000;
  const jobs: JobOut[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < HOUR_PAGES; page++) {
    const { data } = await listJobs({ query: { limit: COUNT_LIMIT, cursor }, throwOnError: true });
    jobs.push(...data.items);
    const oldest = data.items[data.items.length - 1];
    if (!data.next_cursor || !oldest || new Date(oldest.created_at).getTime() < since) break;
    cursor = data.next_cursor;
  }
  return jobs.filter((job) => new Date(job.created_at).getTime() >= since);
}

const OVERVIEW_POLL_MS = 5000;

export function Overview() {
  // Counting is heavier than a page of jobs: the tiles refresh on their own clock, not on events.
  const interval = OVERVIEW_POLL_MS;
  const counts = useQueries({
    queries: ALL_STATUSES.map((status) => ({
      queryKey: ["overview", "count", status],
      queryFn: async () => {
        const { data } = await listJobs({ query: { status, limit: COUNT_LIMIT }, throwOnError: true });
        return { count: data.items.length, more: data.next_cursor != null };
      },
      refetchInterval: interval,
    })),
  });
  const hour = useQuery({ queryKey: ["overview", "last-hour"], queryFn: lastHourJobs, refetchInterval: interval });
  const workers = useWorkers();
  const byStatus = (status: string) => workers.data?.filter((w) => w.status === status).length ?? 0;
  const queued = counts[0].data;
  const error = counts.find((c) => c.error)?.error ?? hour.error ?? workers.error;

  return (
    <>
      <h1>Overview</h1>
      <ErrorMessage error={error} title="Could not load everything" />
      <div className="tiles">
        <section className="tile" aria-labelledby="tile-waiting">
          <h2 id="tile-waiting">Jobs waiting</h2>
          <p className="big">{queued ? `${queued.count}${queued.more ? "+" : ""}` : "…"}</p>
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
            {ALL_STATUSES.map((status, i) => {
              const c = counts[i].data;
              return (
                <li key={status}>
                  <Link to="/jobs" search={{ status }} aria-label={`${status.replace("_", " ")}: ${c ? c.count : "loading"}`}>
                    <StatusBadge status={status} />
                    <span className="count">{c ? `${c.count}${c.more ? "+" : ""}` : "…"}</span>
                  </Link>
                </li>
              );
            })}
          </ul>
        </section>
      </div>
      <section className="card" aria-labelledby="chart-title">
        <h2 id="chart-title">Jobs per minute, last hour</h2>
        {hour.data ? <JobsPerMinuteChart buckets={perMinute(hour.data.map((j) => j.created_at), Date.now())} /> : <p className="muted">Loading…</p>}
      </section>
      <section aria-labelledby="recent-title">
        <div className="page-head">
          <h2 id="recent-title">Recent jobs</h2>
          <Link to="/jobs">All jobs →</Link>
        </div>
        {hour.data && hour.data.length > 0 ? (
          <JobsTable jobs={hour.data.slice(0, 8)} caption="Recent jobs" />
        ) : (
          <p className="empty">No jobs in the last hour.</p>
        )}
      </section>
    </>
  );
}
