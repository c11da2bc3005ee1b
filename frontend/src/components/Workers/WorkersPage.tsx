import { useMutation, useQueryClient } from "@tanstack/react-query";
import { deleteWorker, drainWorker, type WorkerOut } from "../../client";
import { formatDate, timeAgo } from "../../lib/format";
import { ConfirmButton } from "../Common/ConfirmButton";
import { ErrorMessage } from "../Common/ErrorMessage";
import { StatusBadge } from "../Common/StatusBadge";
import { useRole } from "../Common/useRole";
import { Labels } from "../Jobs/JobsTable";
import { useWorkers } from "../Jobs/queries";

export function WorkersPage() {
  const workers = useWorkers();
  const manage = useRole().can("manageWorkers");
  const queryClient = useQueryClient();
  const drain = useMutation({
    mutationFn: async (id: string) => (await drainWorker({ path: { worker_id: id }, throwOnError: true })).data,
    onSuccess: (worker) => {
      queryClient.setQueryData<WorkerOut[]>(["workers"], (list) => list?.map((w) => (w.id === worker.id ? worker : w)));
      void queryClient.invalidateQueries({ queryKey: ["workers"] });
    },
  });

  const remove = useMutation({
    mutationFn: async (id: string) => {
      await deleteWorker({ path: { worker_id: id }, throwOnError: true });
      return id;
    },
    onSuccess: (id) => {
      queryClient.setQueryData<WorkerOut[]>(["workers"], (list) => list?.filter((w) => w.id !== id));
    },
  });

  return (
    <>
      <h1>Workers</h1>
      <ErrorMessage error={workers.error} title="Could not load workers" />
      <ErrorMessage error={drain.error} title="Drain failed" />
      <ErrorMessage error={remove.error} title="Remove failed" />
      {workers.data && workers.data.length === 0 && (
        <p className="empty">
          No workers yet. Create a worker key on the Credentials page, then run
          <code> MASTER_URL=… API_KEY=… jobrunner-worker</code> on a host.
        </p>
      )}
      {workers.data && workers.data.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Workers</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col" className="hide-phone">Labels</th>
                <th scope="col">Running / capacity</th>
                <th scope="col" className="hide-phone">Last heartbeat</th>
                <th scope="col" className="hide-phone">Version</th>
                {manage && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {workers.data.map((w) => (
                <tr key={w.id} aria-label={`Worker ${w.name}`}>
                  <td className="nowrap">
                    <strong>{w.name}</strong>
                    {w.hostname && w.hostname !== w.name && <div className="muted small">{w.hostname}</div>}
                  </td>
                  <td>
                    <StatusBadge status={w.status} />
                  </td>
                  <td className="hide-phone">
                    <Labels labels={w.labels} />
                  </td>
                  <td>
                    <Meter value={w.running} max={w.capacity} label={`${w.name} running jobs`} />
                  </td>
                  <td className="nowrap hide-phone" title={formatDate(w.last_heartbeat)}>
                    {timeAgo(w.last_heartbeat)}
                  </td>
                  <td className="mono hide-phone">{w.version || "—"}</td>
                  {manage && (
                  <td className="nowrap">
                    {w.status === "offline" ? (
                      <ConfirmButton
                        label="Remove"
                        name={`Remove ${w.name}`}
                        confirm="Yes, remove"
                        onConfirm={() => remove.mutate(w.id)}
                        busy={remove.isPending && remove.variables === w.id}
                      />
                    ) : (
                      <button
                        type="button"
                        disabled={w.status !== "online" || (drain.isPending && drain.variables === w.id)}
                        onClick={() => drain.mutate(w.id)}
                        aria-label={`Drain ${w.name}`}
                        title="Finish the running jobs, take no new ones"
                      >
                        Drain
                      </button>
                    )}
                  </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {workers.isPending && <p className="muted">Loading workers…</p>}
    </>
  );
}

function Meter({ value, max, label }: { value: number; max: number; label: string }) {
  return (
    <span className="meter-wrap">
      <span className="mono">
        {value} / {max}
      </span>
      <span className="meter" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={max} aria-valuenow={value}>
        <span style={{ width: `${max ? Math.min(100, (value / max) * 100) : 0}%` }} />
      </span>
    </span>
  );
}
