import { Link } from "@tanstack/react-router";
import { useEffect, useState } from "react";
import { fromLocalInput, toLocalInput } from "../../lib/format";
import { ConfirmButton } from "../Common/ConfirmButton";
import { DebouncedInput } from "../Common/DebouncedInput";
import { ErrorMessage } from "../Common/ErrorMessage";
import { Pager } from "../Common/Pager";
import { useRole } from "../Common/useRole";
import { describeCancel, describeRerun } from "./bulk";
import { JobsTable, type Selection } from "./JobsTable";
import { useJobEvents } from "./useJobEvents";
import { ALL_STATUSES, type JobFilters, SORTS, useBulkJobs, useJobsPage, useWorkers } from "./queries";

interface Props {
  filters: JobFilters;
  onFiltersChange: (filters: JobFilters) => void;
}

export function JobsPage({ filters, onFiltersChange }: Props) {
  // Cursor pagination: the cursors of the pages before this one, to go back.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const filterKey = JSON.stringify([filters.status, filters.label, filters.worker, filters.q, filters.sort, filters.from, filters.to]);
  useEffect(() => setCursors([undefined]), [filterKey]);

  const page = useJobsPage(filters, cursor);
  const { live } = useJobEvents();
  const workers = useWorkers();
  const shown = page.data?.items ?? [];

  // Rows picked for a bulk action: those of the page in view (a new page or filter clears them).
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => setSelected(new Set()), [filterKey, cursor]);
  const selection: Selection = {
    selected,
    set: (ids, on) =>
      setSelected((before) => {
        const next = new Set(before);
        ids.forEach((id) => (on ? next.add(id) : next.delete(id)));
        return next;
      }),
  };
  const bulk = useBulkJobs();
  const { can } = useRole();
  const control = can("controlJobs");
  const [done, setDone] = useState<string | null>(null);
  const picked = shown.filter((job) => selected.has(job.id)).map((job) => job.id);
  const act = (action: "cancel" | "rerun") => {
    setDone(null);
    bulk.cancel.reset();
    bulk.rerun.reset();
    if (action === "cancel") {
      bulk.cancel.mutate(picked, {
        onSuccess: (answer) => {
          setDone(`Cancel: ${describeCancel(answer.results)}`);
          setSelected(new Set());
        },
      });
    } else {
      bulk.rerun.mutate(picked, {
        onSuccess: (answer) => {
          setDone(`Rerun: ${describeRerun(answer.results)}`);
          setSelected(new Set());
        },
      });
    }
  };

  const filtered = Boolean(filters.status || filters.label || filters.worker || filters.q || filters.from || filters.to);
  const set = (change: Partial<JobFilters>) => onFiltersChange({ ...filters, ...change });
  const sort = SORTS.find((s) => s.value === filters.sort) ?? SORTS[0];
  const byEnd = sort.value.endsWith("finished_at");

  return (
    <>
      <div className="page-head">
        <h1>Jobs</h1>
        <span className="muted live-state" role="status" aria-label="Updates">
          {live ? "● Live" : "○ Refreshing every 2 s"}
        </span>
        {can("submitJobs") && (
          <Link to="/jobs/new" className="button primary">
            New job
          </Link>
        )}
      </div>
      <form className="filters" role="search" aria-label="Filter jobs" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select
            id="filter-status"
            value={filters.status ?? ""}
            onChange={(e) => set({ status: (e.target.value || undefined) as JobFilters["status"] })}
          >
            <option value="">Any status</option>
            {ALL_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace("_", " ")}
              </option>
            ))}
          </select>
        </div>
        <DebouncedInput id="filter-label" label="Label" value={filters.label} onChange={(label) => set({ label })} />
        <div className="field">
          <label htmlFor="filter-worker">Worker</label>
          <select id="filter-worker" value={filters.worker ?? ""} onChange={(e) => set({ worker: e.target.value || undefined })}>
            <option value="">Any worker</option>
            {workers.data?.map((w) => (
              <option key={w.id} value={w.name}>
                {w.name}
              </option>
            ))}
          </select>
        </div>
        <DebouncedInput
          id="filter-search"
          label="Search"
          type="search"
          placeholder="name or command…"
          value={filters.q}
          onChange={(q) => set({ q })}
        />
        <div className="field">
          <label htmlFor="filter-sort">Sort</label>
          <select
            id="filter-sort"
            value={sort.value}
            onChange={(e) => set({ sort: e.target.value === SORTS[0].value ? undefined : (e.target.value as JobFilters["sort"]) })}
          >
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-date">
          <label htmlFor="filter-from">Created from</label>
          <input
            id="filter-from"
            type="datetime-local"
            value={toLocalInput(filters.from)}
            max={toLocalInput(filters.to) || undefined}
            onChange={(e) => set({ from: fromLocalInput(e.target.value) })}
          />
        </div>
        <div className="field field-date">
          <label htmlFor="filter-to">Created before</label>
          <input
            id="filter-to"
            type="datetime-local"
            value={toLocalInput(filters.to)}
            min={toLocalInput(filters.from) || undefined}
            onChange={(e) => set({ to: fromLocalInput(e.target.value) })}
          />
        </div>
        <div className="field field-end">
          <button type="button" onClick={() => onFiltersChange({})} disabled={!filtered && !filters.sort}>
            Clear filters
          </button>
        </div>
      </form>
      <ErrorMessage error={page.error} title="Could not load jobs" />
      {page.data && (
        <>
          {control && shown.length > 0 && (
            <div className="bulk-bar" role="toolbar" aria-label="Selected jobs">
              <span className="muted" aria-live="polite">
                {picked.length ? `${picked.length} selected` : "Select jobs to cancel or rerun them together"}
              </span>
              <ConfirmButton
                label="Cancel selected"
                name={`Cancel ${picked.length} selected`}
                confirm={`Yes, cancel ${picked.length}`}
                onConfirm={() => act("cancel")}
                busy={bulk.cancel.isPending}
                disabled={!picked.length}
                className="danger"
              />
              <button type="button" onClick={() => act("rerun")} disabled={!picked.length || bulk.rerun.isPending}>
                {bulk.rerun.isPending ? "Starting…" : "Rerun selected"}
              </button>
              {picked.length > 0 && (
                <button type="button" onClick={() => setSelected(new Set())}>
                  Clear selection
                </button>
              )}
            </div>
          )}
          <ErrorMessage error={bulk.cancel.error} title="Cancel failed" />
          <ErrorMessage error={bulk.rerun.error} title="Rerun failed" />
          {done && (
            <p className="bulk-done" role="status">
              {done}{" "}
              <button type="button" className="link" onClick={() => setDone(null)}>
                Dismiss
              </button>
            </p>
          )}
          {shown.length ? (
            <JobsTable jobs={shown} caption={`Jobs, ${sort.label.toLowerCase()}`} selection={control ? selection : undefined} time={byEnd ? "finished" : "created"} />
          ) : (
            <p className="empty">
              {filtered ? "No job matches these filters." : byEnd ? "No job has ended yet." : "No jobs yet."}
            </p>
          )}
          <Pager cursors={cursors} setCursors={setCursors} nextCursor={page.data.next_cursor} />
        </>
      )}
      {page.isPending && <p className="muted">Loading jobs…</p>}
    </>
  );
}
