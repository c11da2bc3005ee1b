import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { type Action, listAudit } from "../../client";
import { formatDate, timeAgo } from "../../lib/format";
import { DebouncedInput } from "../Common/DebouncedInput";
import { ErrorMessage } from "../Common/ErrorMessage";
import { NotAllowed } from "../Common/NotAllowed";
import { Pager } from "../Common/Pager";
import { useRole } from "../Common/useRole";

/** The audit log's filters, as they stand in the page's URL (routes/_layout/audit.tsx). */
export interface AuditFilters {
  action?: Action;
  actor?: string;
}

interface Props {
  filters: AuditFilters;
  onFiltersChange: (filters: AuditFilters) => void;
}

// GET /audit's actions (the API's audit.Action), in the filter's order.
export const ACTIONS: Action[] = [
  "login", "login.failed", "password.change", "api_key.create", "api_key.revoke", "secret.set", "secret.delete",
  "user.create", "user.update", "user.delete", "schedule.create", "schedule.update", "schedule.delete", "schedule.trigger",
  "job.cancel", "job.rerun", "worker.drain", "worker.delete",
];

export function AuditPage(props: Props) {
  const { me, role, can } = useRole();
  if (me && !can("readAudit")) {
    return (
      <>
        <h1>Audit log</h1>
        <NotAllowed role={role} needs="admin" />
      </>
    );
  }
  return <Audit {...props} />;
}

function Audit({ filters, onFiltersChange }: Props) {
  const { action, actor } = filters;
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setCursors([undefined]), [action, actor]);
  const cursor = cursors[cursors.length - 1];
  const query = { action, actor, cursor, limit: 50 };
  const page = useQuery({
    queryKey: ["audit", query],
    queryFn: async () => (await listAudit({ query, throwOnError: true })).data,
    placeholderData: keepPreviousData,
    refetchInterval: cursor ? false : 10_000, // the first page shows new entries
  });
  const filtered = Boolean(action || actor);

  return (
    <>
      <h1>Audit log</h1>
      <form className="filters audit-filters" role="search" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="audit-action">Action</label>
          <select
            id="audit-action"
            value={action ?? ""}
            onChange={(e) => onFiltersChange({ ...filters, action: (e.target.value || undefined) as Action | undefined })}
          >
            <option value="">Any action</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <DebouncedInput
          id="audit-actor"
          label="Actor"
          placeholder="a username"
          value={actor}
          onChange={(next) => onFiltersChange({ ...filters, actor: next })}
        />
        <div className="field field-end">
          <button type="button" onClick={() => onFiltersChange({})} disabled={!filtered}>
            Clear filters
          </button>
        </div>
      </form>
      <ErrorMessage error={page.error} title="Could not load the audit log" />
      {page.data && (
        <>
          {page.data.items.length ? (
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Audit log, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Actor</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col" className="hide-phone">Address</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.items.map((entry) => (
                    <tr key={entry.id}>
                      <td className="nowrap" title={timeAgo(entry.at)}>
                        {formatDate(entry.at)}
                      </td>
                      <td>{entry.actor}</td>
                      <td>
                        <code className={entry.action === "login.failed" ? "field-error" : undefined}>{entry.action}</code>
                      </td>
                      <td className="wrap">{entry.target || "—"}</td>
                      <td className="mono hide-phone">{entry.address ?? "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p className="empty">{filtered ? "No entry matches these filters." : "Nothing in the audit log yet."}</p>
          )}
          <Pager cursors={cursors} setCursors={setCursors} nextCursor={page.data.next_cursor} back="← Newer" forward="Older →" />
        </>
      )}
      {page.isPending && <p className="muted">Loading the audit log…</p>}
    </>
  );
}
