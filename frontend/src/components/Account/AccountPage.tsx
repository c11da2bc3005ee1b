import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { changePassword } from "../../client";
import { setToken } from "../../lib/auth";
import { ErrorMessage } from "../Common/ErrorMessage";
import { useRole } from "../Common/useRole";
import { PASSWORD_HINT } from "../Users/password";

const WHAT_ROLE_MAY: Record<string, string> = {
  viewer: "You can look at everything of the tenant, but not change anything.",
  member: "You can submit, cancel and rerun jobs.",
  admin: "You can also manage API keys, secrets, workers, schedules and users, and read the audit log.",
};

export function AccountPage() {
  const { me } = useRole();
  const queryClient = useQueryClient();
  const [done, setDone] = useState(false);
  const change = useMutation({
    mutationFn: async (body: { current_password: string; new_password: string }) =>
      (await changePassword({ body, throwOnError: true })).data,
    // The old token ends with the change: keep the new one, or the next request would be a 401.
    onSuccess: (answer) => {
      setToken(answer.access_token);
      setDone(true);
      void queryClient.invalidateQueries();
    },
  });
  const [mismatch, setMismatch] = useState(false);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const next = String(form.get("new"));
    setDone(false);
    setMismatch(next !== String(form.get("repeat")));
    if (next !== String(form.get("repeat"))) return;
    change.mutate(
      { current_password: String(form.get("current")), new_password: next },
      { onSuccess: () => formElement.reset() },
    );
  }

  return (
    <>
      <h1>Account</h1>
      <section className="card" aria-labelledby="account-title">
        <h2 id="account-title">{me?.username ?? "…"}</h2>
        <dl className="meta">
          <dt>Role</dt>
          <dd>
            <strong>{me?.role}</strong> <span className="muted">{me && WHAT_ROLE_MAY[me.role]}</span>
          </dd>
          <dt>Tenant</dt>
          <dd>{me?.tenant.name}</dd>
        </dl>
      </section>
      <section className="card narrow-card" aria-labelledby="password-title">
        <h2 id="password-title">Change password</h2>
        <form onSubmit={onSubmit} aria-label="Change password" noValidate>
          <div className="field">
            <label htmlFor="password-current">Current password</label>
            <input id="password-current" name="current" type="password" autoComplete="current-password" required />
          </div>
          <div className="field">
            <label htmlFor="password-new">New password</label>
            <input id="password-new" name="new" type="password" autoComplete="new-password" required aria-describedby="password-new-hint" />
            <small id="password-new-hint" className="muted">
              {PASSWORD_HINT} Your other sessions end.
            </small>
          </div>
          <div className="field">
            <label htmlFor="password-repeat">New password, again</label>
            <input id="password-repeat" name="repeat" type="password" autoComplete="new-password" required />
            {mismatch && (
              <small className="field-error" role="alert">
                The two new passwords differ.
              </small>
            )}
          </div>
          <button type="submit" className="primary" disabled={change.isPending}>
            {change.isPending ? "Changing…" : "Change password"}
          </button>
        </form>
        <ErrorMessage error={change.error} title="Could not change the password" />
        {done && (
          <p role="status" className="bulk-done">
            Password changed. Sessions elsewhere have ended; this one goes on.
          </p>
        )}
      </section>
    </>
  );
}
