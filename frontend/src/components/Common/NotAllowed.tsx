import type { Role } from "../../lib/roles";

/** What a page says to someone whose role may not use it (the API would answer 403). */
export function NotAllowed({ role, needs }: { role: Role | undefined; needs: Role }) {
  return (
    <p className="empty">
      This page is for {needs === "admin" ? "admins" : `${needs}s and above`} of the tenant
      {role ? `; your role is ${role}` : ""}.
    </p>
  );
}
