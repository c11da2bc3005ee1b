import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { deleteSecret, listSecrets, putSecret, type SecretOut } from "../../client";
import { formatDate } from "../../lib/format";
import { ConfirmButton } from "../Common/ConfirmButton";
import { useRole } from "../Common/useRole";
import { ErrorMessage } from "../Common/ErrorMessage";

// A tenant's secrets: set (create or replace), list by name and date, delete. The API never
// returns a value, so neither does this page; the value field is cleared once it is sent.
export function SecretsPage() {
  const queryClient = useQueryClient();
  const manage = useRole().can("manageSecrets");
  const secrets = useQuery({
    queryKey: ["secrets"],
    queryFn: async () => (await listSecrets({ throwOnError: true })).data,
  });
  const [saved, setSaved] = useState<string | null>(null);
  const put = useMutation({
    mutationFn: async ({ name, value }: { name: string; value: string }) =>
      (await putSecret({ path: { name }, body: { value }, throwOnError: true })).data,
    onSuccess: (secret) => {
      setSaved(secret.name);
      void queryClient.invalidateQueries({ queryKey: ["secrets"] });
    },
  });
  const remove = useMutation({
    mutationFn: async (name: string) => (await deleteSecret({ path: { name }, throwOnError: true })).data,
    onSuccess: (_, name) => {
      queryClient.setQueryData<SecretOut[]>(["secrets"], (list) => list?.filter((s) => s.name !== name));
      void queryClient.invalidateQueries({ queryKey: ["secrets"] });
    },
  });

  function onSave(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    setSaved(null);
    put.mutate(
      { name: String(form.get("name")).trim(), value: String(form.get("value")) },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <>
      <h1>Secrets</h1>
      {manage && (
      <section aria-labelledby="set-secret-title" className="card">
        <h2 id="set-secret-title">Set a secret</h2>
        <p className="muted">
          A job that lists a secret gets it as an environment variable of that name; its value is stored encrypted,
          never shown again, and appears in logs as <code>***</code>. Setting an existing name replaces its value for
          jobs queued from then on.
        </p>
        <form className="inline-form" onSubmit={onSave}>
          <div className="field">
            <label htmlFor="secret-name">Name</label>
            <input
              id="secret-name"
              name="name"
              required
              maxLength={128}
              pattern="[A-Za-z_][A-Za-z0-9_]*"
              title="Letters, digits and _, not starting with a digit"
              className="mono"
              placeholder="e.g. DEPLOY_TOKEN"
              autoComplete="off"
            />
          </div>
          <div className="field">
            <label htmlFor="secret-value">Value</label>
            <input id="secret-value" name="value" type="password" required autoComplete="new-password" />
          </div>
          <button type="submit" className="primary" disabled={put.isPending}>
            Save secret
          </button>
        </form>
        <ErrorMessage error={put.error} title="Could not save the secret" />
        {saved && (
          <p role="status" className="muted">
            Saved <strong className="mono">{saved}</strong>.
          </p>
        )}
      </section>
      )}
      <section aria-labelledby="secrets-title">
        <h2 id="secrets-title">Your secrets</h2>
        <ErrorMessage error={secrets.error} title="Could not load secrets" />
        <ErrorMessage error={remove.error} title="Could not delete the secret" />
        {secrets.data?.length === 0 && <p className="empty">No secrets.</p>}
        {!!secrets.data?.length && (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Secrets</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Created</th>
                  <th scope="col">Updated</th>
                  {manage && (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {secrets.data.map((secret) => (
                  <SecretRow
                    key={secret.name}
                    secret={secret}
                    onDelete={manage ? () => remove.mutate(secret.name) : undefined}
                    busy={remove.isPending && remove.variables === secret.name}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

/** onDelete: only for those who may delete it. */
function SecretRow({ secret, onDelete, busy }: { secret: SecretOut; onDelete?: () => void; busy: boolean }) {
  return (
    <tr aria-label={`Secret ${secret.name}`}>
      <td className="mono">{secret.name}</td>
      <td className="nowrap">{formatDate(secret.created_at)}</td>
      <td className="nowrap">{formatDate(secret.updated_at)}</td>
      {onDelete && (
        <td className="nowrap">
          <ConfirmButton label="Delete" name={`Delete ${secret.name}`} confirm="Yes, delete" onConfirm={onDelete} busy={busy} />
        </td>
      )}
    </tr>
  );
}
