import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type ApiKeyCreated, type ApiKeyOut, createKey, listKeys, revokeKey } from "../../client";
import { formatDate, fromLocalInput, timeAgo } from "../../lib/format";
import { guessMasterUrl, workerCommands } from "../../lib/shell";
import { ConfirmButton } from "../Common/ConfirmButton";
import { CopyButton } from "../Common/CopyButton";
import { ErrorMessage } from "../Common/ErrorMessage";
import { useRole } from "../Common/useRole";
import { describeExpiry, soonestExpiry } from "./expiry";

export function CredentialsPage() {
  const queryClient = useQueryClient();
  const manage = useRole().can("manageKeys");
  const keys = useQuery({
    queryKey: ["api-keys"],
    queryFn: async () => (await listKeys({ throwOnError: true })).data,
  });
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const create = useMutation({
    mutationFn: async (body: { name: string; kind: "worker" | "submit"; expires_at?: string }) =>
      (await createKey({ body, throwOnError: true })).data,
    onSuccess: (key) => {
      setCreated(key);
      void queryClient.invalidateQueries({ queryKey: ["api-keys"] });
    },
  });
  const revoke = useMutation({
    mutationFn: async (id: string) => (await revokeKey({ path: { key_id: id }, throwOnError: true })).data,
    onSuccess: (_, id) => {
      queryClient.setQueryData<ApiKeyOut[]>(["api-keys"], (list) => list?.filter((k) => k.id !== id));
      void queryClient.invalidateQueries({ queryKey: ["api-keys"] });
    },
  });

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    create.mutate({
      name: String(form.get("name")).trim(),
      kind: form.get("kind") as "worker" | "submit",
      expires_at: fromLocalInput(String(form.get("expires") ?? "")),
    });
    event.currentTarget.reset();
  }

  return (
    <>
      <h1>Credentials</h1>
      {manage && (
      <section aria-labelledby="new-key-title" className="card">
        <h2 id="new-key-title">New API key</h2>
        <p className="muted">
          A <strong>worker</strong> key lets a worker connect to the master; a <strong>submit</strong> key lets a program
          submit jobs over AMQP.
        </p>
        <form className="inline-form" onSubmit={onCreate}>
          <div className="field">
            <label htmlFor="key-name">Name</label>
            <input id="key-name" name="name" required maxLength={100} placeholder="e.g. build-host-3" />
          </div>
          <div className="field">
            <label htmlFor="key-kind">Kind</label>
            <select id="key-kind" name="kind" defaultValue="worker">
              <option value="worker">worker</option>
              <option value="submit">submit</option>
            </select>
          </div>
          <div className="field field-date">
            <label htmlFor="key-expires">Expires (optional)</label>
            <input id="key-expires" name="expires" type="datetime-local" min={soonestExpiry()} aria-describedby="key-expires-hint" />
          </div>
          <button type="submit" className="primary" disabled={create.isPending}>
            Create key
          </button>
        </form>
        <ErrorMessage error={create.error} title="Could not create the key" />
        <small id="key-expires-hint" className="muted">
          Your local time. Empty: the key works until revoked. From then on it is refused like a revoked one.
        </small>
        {created && <NewKey created={created} onDismiss={() => setCreated(null)} />}
      </section>
      )}
      <section aria-labelledby="keys-title">
        <h2 id="keys-title">API keys</h2>
        <ErrorMessage error={keys.error} title="Could not load keys" />
        <ErrorMessage error={revoke.error} title="Could not revoke the key" />
        {keys.data?.length === 0 && <p className="empty">No API keys.</p>}
        {!!keys.data?.length && (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">API keys</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                  {manage && (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {keys.data.map((key) => (
                  <KeyRow key={key.id} apiKey={key} onRevoke={manage ? () => revoke.mutate(key.id) : undefined} busy={revoke.isPending && revoke.variables === key.id} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

/** onRevoke: only for those who may revoke it. */
function KeyRow({ apiKey, onRevoke, busy }: { apiKey: ApiKeyOut; onRevoke?: () => void; busy: boolean }) {
  const expiry = describeExpiry(apiKey);
  return (
    <tr aria-label={`Key ${apiKey.name}`} className={expiry.expired ? "expired" : undefined}>
      <td>{apiKey.name}</td>
      <td className="mono">{apiKey.prefix}…</td>
      <td>{apiKey.kind}</td>
      <td className="nowrap">{formatDate(apiKey.created_at)}</td>
      <td className="nowrap">{timeAgo(apiKey.last_used_at)}</td>
      <td className="nowrap" title={expiry.title}>
        {expiry.expired ? <span className="badge status-failed">{expiry.text}</span> : <span className={apiKey.expires_at ? undefined : "muted"}>{expiry.text}</span>}
      </td>
      {onRevoke && (
        <td className="nowrap">
          <ConfirmButton label="Revoke" name={`Revoke ${apiKey.name}`} confirm="Yes, revoke" onConfirm={onRevoke} busy={busy} />
        </td>
      )}
    </tr>
  );
}

function NewKey({ created, onDismiss }: { created: ApiKeyCreated; onDismiss: () => void }) {
  return (
    <div className="new-key" role="status" aria-labelledby="new-key-label">
      <p id="new-key-label">
        <strong>{created.name}</strong> ({created.kind}) — copy this key now; it is shown only once.
      </p>
      <div className="copy-row">
        <input
          id="new-key-value"
          className="mono"
          readOnly
          value={created.key}
          aria-label="New API key"
          onFocus={(e) => e.currentTarget.select()}
        />
        <CopyButton text={created.key} fallbackId="new-key-value" />
        <button type="button" onClick={onDismiss}>
          Done
        </button>
      </div>
      {created.kind === "worker" && <WorkerCommands apiKey={created.key} />}
    </div>
  );
}

const MASTER_URL_KEY = "jobrunner.masterUrl";

/** The lines that start a worker with a new worker key, for the master as the worker host reaches it. */
function WorkerCommands({ apiKey }: { apiKey: string }) {
  const [masterUrl, setMasterUrl] = useState(() => localStorage.getItem(MASTER_URL_KEY) ?? guessMasterUrl(window.location));
  const { compose, plain } = workerCommands(masterUrl, apiKey);
  function change(value: string) {
    setMasterUrl(value);
    localStorage.setItem(MASTER_URL_KEY, value);
  }
  return (
    <section className="worker-commands" aria-labelledby="worker-commands-title">
      <h3 id="worker-commands-title">Start a worker with this key</h3>
      <div className="field">
        <label htmlFor="master-url">Master URL, as the worker host reaches it</label>
        <input id="master-url" className="mono" value={masterUrl} onChange={(e) => change(e.target.value)} spellCheck={false} />
      </div>
      <p className="muted small">
        With Docker, in a checkout of the repository on the worker host (<code>docker-compose.worker.yaml</code>; add{" "}
        <code>--scale worker=4</code> for more, or keep the settings in a <code>.env</code> made from{" "}
        <code>.env.worker.example</code>):
      </p>
      <CommandLine id="worker-compose-command" command={compose} name="Copy the docker compose command" />
      <p className="muted small">
        Without Docker, where <code>pip install ./shared ./services/worker</code> installed <code>jobrunner-worker</code>:
      </p>
      <CommandLine id="worker-plain-command" command={plain} name="Copy the jobrunner-worker command" />
    </section>
  );
}

function CommandLine({ id, command, name }: { id: string; command: string; name: string }) {
  return (
    <div className="command-line">
      <code id={id} className="mono">
        {command}
      </code>
      <CopyButton text={command} fallbackId={id} name={name} />
    </div>
  );
}
