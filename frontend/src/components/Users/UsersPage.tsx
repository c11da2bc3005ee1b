import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { createUser, deleteUser, listUsers, updateUser, type UserIn, type UserOut } from "../../client";
import { formatDate } from "../../lib/format";
import type { Role } from "../../lib/roles";
import { ConfirmButton } from "../Common/ConfirmButton";
import { ErrorMessage } from "../Common/ErrorMessage";
import { NotAllowed } from "../Common/NotAllowed";
import { useRole } from "../Common/useRole";
import { PASSWORD_HINT } from "./password";

const ROLES: { value: Role; label: string }[] = [
  { value: "viewer", label: "viewer — reads only" },
  { value: "member", label: "member — also submits, cancels and reruns jobs" },
  { value: "admin", label: "admin — also keys, secrets, workers, schedules, users, audit" },
];

export function UsersPage() {
  const { me, role, can } = useRole();
  if (me && !can("manageUsers")) {
    return (
      <>
        <h1>Users</h1>
        <NotAllowed role={role} needs="admin" />
      </>
    );
  }
  return <Users myName={me?.username} />;
}

function Users({ myName }: { myName?: string }) {
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: ["users"], queryFn: async () => (await listUsers({ throwOnError: true })).data });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["users"] });
  const create = useMutation({
    mutationFn: async (body: UserIn) => (await createUser({ body, throwOnError: true })).data,
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: async (id: string) => {
      await deleteUser({ path: { user_id: id }, throwOnError: true });
      return id;
    },
    onSuccess: (id) => {
      queryClient.setQueryData<UserOut[]>(["users"], (list) => list?.filter((u) => u.id !== id));
      refresh();
    },
  });
  const [created, setCreated] = useState<string | null>(null);

  function onCreate(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const body: UserIn = {
      username: String(form.get("username")).trim(),
      password: String(form.get("password")),
      role: form.get("role") as Role,
    };
    setCreated(null);
    create.mutate(body, {
      onSuccess: (user) => {
        setCreated(`${user.username} (${user.role}) can now sign in.`);
        formElement.reset();
      },
    });
  }

  return (
    <>
      <h1>Users</h1>
      <section aria-labelledby="new-user-title" className="card">
        <h2 id="new-user-title">New user</h2>
        <form className="inline-form" onSubmit={onCreate} aria-label="New user" noValidate>
          <div className="field">
            <label htmlFor="user-name">Username</label>
            <input id="user-name" name="username" required maxLength={100} autoComplete="off" pattern="\S+" />
          </div>
          <div className="field">
            <label htmlFor="user-password">Password</label>
            <input id="user-password" name="password" type="password" required autoComplete="new-password" aria-describedby="user-password-hint" />
          </div>
          <div className="field">
            <label htmlFor="user-role">Role</label>
            <select id="user-role" name="role" defaultValue="member">
              {ROLES.map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" className="primary" disabled={create.isPending}>
            Create user
          </button>
        </form>
        <small id="user-password-hint" className="muted">
          {PASSWORD_HINT}
        </small>
        <ErrorMessage error={create.error} title="Could not create the user" />
        {created && (
          <p role="status" className="bulk-done">
            {created}
          </p>
        )}
      </section>
      <section aria-labelledby="users-title">
        <h2 id="users-title">All users</h2>
        <ErrorMessage error={users.error} title="Could not load users" />
        <ErrorMessage error={remove.error} title="Could not delete the user" />
        {!!users.data?.length && (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Users</caption>
              <thead>
                <tr>
                  <th scope="col">Username</th>
                  <th scope="col">Role</th>
                  <th scope="col" className="hide-phone">Created</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.data.map((user) => (
                  <UserRow
                    key={user.id}
                    user={user}
                    isMe={user.username === myName}
                    onDelete={() => remove.mutate(user.id)}
                    deleting={remove.isPending && remove.variables === user.id}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {users.isPending && <p className="muted">Loading users…</p>}
      </section>
    </>
  );
}

function UserRow({ user, isMe, onDelete, deleting }: { user: UserOut; isMe: boolean; onDelete: () => void; deleting: boolean }) {
  const queryClient = useQueryClient();
  const update = useMutation({
    mutationFn: async (body: { role?: Role; password?: string }) =>
      (await updateUser({ path: { user_id: user.id }, body, throwOnError: true })).data,
    onSuccess: (changed) => {
      queryClient.setQueryData<UserOut[]>(["users"], (list) => list?.map((u) => (u.id === changed.id ? changed : u)));
      if (isMe) void queryClient.invalidateQueries({ queryKey: ["me"] });
    },
  });
  const [resetting, setResetting] = useState(false);
  const [password, setPassword] = useState("");
  const [done, setDone] = useState<string | null>(null);

  function onReset(event: FormEvent) {
    event.preventDefault();
    update.mutate(
      { password },
      {
        onSuccess: () => {
          setResetting(false);
          setPassword("");
          setDone("Password set; their sessions ended.");
        },
      },
    );
  }

  return (
    <tr aria-label={`User ${user.username}`}>
      <td>
        <strong>{user.username}</strong> {isMe && <span className="muted small">(you)</span>}
      </td>
      <td>
        <select
          aria-label={`Role of ${user.username}`}
          value={user.role}
          disabled={update.isPending}
          onChange={(e) => {
            setDone(null);
            update.mutate({ role: e.target.value as Role }, { onSuccess: (u) => setDone(`Now ${u.role}.`) });
          }}
        >
          {ROLES.map((r) => (
            <option key={r.value} value={r.value}>
              {r.value}
            </option>
          ))}
        </select>
        {update.error && (
          <div className="field-error small" role="alert">
            {update.error.message}
          </div>
        )}
        {done && (
          <div className="muted small" role="status">
            {done}
          </div>
        )}
      </td>
      <td className="nowrap hide-phone">{formatDate(user.created_at)}</td>
      <td className="user-actions">
        {resetting ? (
          <form className="reset-form" onSubmit={onReset} aria-label={`New password for ${user.username}`} noValidate>
            <input
              type="password"
              aria-label={`New password for ${user.username}`}
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoFocus
            />
            <button type="submit" className="primary" disabled={update.isPending}>
              Set
            </button>
            <button type="button" onClick={() => (setResetting(false), update.reset())}>
              Cancel
            </button>
          </form>
        ) : (
          <span className="actions">
            <button type="button" onClick={() => (setResetting(true), setDone(null))} aria-label={`Reset password of ${user.username}`}>
              Reset password
            </button>
            <ConfirmButton label="Delete" name={`Delete ${user.username}`} confirm="Yes, delete" onConfirm={onDelete} busy={deleting} className="danger" />
          </span>
        )}
      </td>
    </tr>
  );
}
