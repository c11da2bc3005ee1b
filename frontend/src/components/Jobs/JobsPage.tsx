import { Link } from "@tanstack/react-router";
import { useEffect, useState } from "react";
import { ErrorMessage } from "../Common/ErrorMessage";
import { JobsTable } from "./JobsTable";
import { useJobEvents } from "./useJobEvents";
import { ALL_STATUSES, type JobFilters, useJobsPage, useWorkers } from "./queries";

interface Props {
  filters: JobFilters;
  onFiltersChange: (filters: JobFilters) => void;
}

export function JobsPage({ filters, onFiltersChange }: Props) {
  // Cursor pagination: the cursors of the pages before this one, to go back.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const filterKey = JSON.stringify([filters.status, filters.label, filters.worker, filters.q]);
  useEffect(() => setCursors([undefined]), [filterKey]);

  const page = useJobsPage(filters, cursor);
  const { live } = useJobEvents();
  const workers = useWorkers();
  const shown = page.data?.items ?? [];

  const filtered = Boolean(filters.status || filters.label || filters.worker || filters.q);
  const set = (change: Partial<JobFilters>) => onFiltersChange({ ...filters, ...change });

  return (
    <>
      <div className="page-head">
        <h1>Jobs</h1>
        <span className="muted live-state" role="status" aria-label="Updates">
          {live ? "● Live" : "○ Refreshing every 2 s"}
        </span>
        <Link to="/jobs/new" className="button primary">
          New job
        </Link>
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
      </form>
      <ErrorMessage error={page.error} title="Could not load jobs" />
      {page.data && (
        <>
          {shown.length ? (
            <JobsTable jobs={shown} caption="Jobs, newest first" />
          ) : (
            <p className="empty">{filtered ? "No job matches these filters." : "No jobs yet."}</p>
          )}
          <nav className="pager" aria-label="Pages">
            <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
              ← Newer
            </button>
            <span className="muted">Page {cursors.length}</span>
            <button
              type="button"
              disabled={!page.data.next_cursor}
              onClick={() => setCursors([...cursors, page.data.next_cursor ?? undefined])}
            >
              Older →
            </button>
          </nav>
        </>
      )}
      {page.isPending && <p className="muted">Loading jobs…</p>}
    </>
  );
}

function DebouncedInput(props: {
  id: string;
  label: string;
  value?: string;
  type?: string;
  placeholder?: string;
  onChange: (value: string | undefined) => void;
}) {
  const { id, label, value, type = "text", placeholder, onChange } = props;
  const [text, setText] = useState(value ?? "");
  useEffect(() => setText(value ?? ""), [value]);
  useEffect(() => {
    if (text === (value ?? "")) return;
    const timer = setTimeout(() => onChange(text.trim() || undefined), 300);
    return () => clearTimeout(timer);
  }, [text]); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type={type} value={text} placeholder={placeholder} onChange={(e) => setText(e.target.value)} />
    </div>
  );
}
