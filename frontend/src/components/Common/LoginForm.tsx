import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { login } from "../../client";
import { ApiError, errorMessage } from "../../lib/api";
import { setToken } from "../../lib/auth";

export function LoginForm({ redirectTo }: { redirectTo?: string }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const { data } = await login({
        body: { username: String(form.get("username")), password: String(form.get("password")) },
        throwOnError: true,
      });
      queryClient.clear();
      setToken(data.access_token);
      await navigate({ to: redirectTo?.startsWith("/") ? redirectTo : "/" });
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? "Wrong username or password." : errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">
          <span className="brand-mark" aria-hidden="true">▶</span> jobrunner
        </h1>
        <p className="muted">Sign in to watch and drive your jobs.</p>
        <label htmlFor="username">Username</label>
        <input id="username" name="username" autoComplete="username" required autoFocus />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
