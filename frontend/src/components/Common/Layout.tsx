import { useQueryClient } from "@tanstack/react-query";
import { Link, Outlet, useNavigate, useRouterState } from "@tanstack/react-router";
import { setToken } from "../../lib/auth";
import type { Permission } from "../../lib/roles";
import { useRole } from "./useRole";

// Which nav item a path belongs to: "Jobs" covers a job's page but not the new-job form. An item
// with `needs` is shown only to those whose role allows it (lib/roles.ts).
const NAV: { to: string; label: string; active: (p: string) => boolean; needs?: Permission }[] = [
  { to: "/", label: "Overview", active: (p) => p === "/" },
  { to: "/jobs", label: "Jobs", active: (p) => p.startsWith("/jobs") && p !== "/jobs/new" },
  { to: "/jobs/new", label: "New job", active: (p) => p === "/jobs/new", needs: "submitJobs" },
  { to: "/schedules", label: "Schedules", active: (p) => p.startsWith("/schedules") },
  { to: "/workers", label: "Workers", active: (p) => p === "/workers" },
  { to: "/secrets", label: "Secrets", active: (p) => p === "/secrets" },
  { to: "/credentials", label: "Credentials", active: (p) => p === "/credentials" },
  { to: "/users", label: "Users", active: (p) => p === "/users", needs: "manageUsers" },
  { to: "/audit", label: "Audit", active: (p) => p === "/audit", needs: "readAudit" },
  { to: "/tenants", label: "Tenants", active: (p) => p === "/tenants", needs: "manageTenants" },
];

export function Layout() {
  const { me: user, can } = useRole();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const pathname = useRouterState({ select: (state) => state.location.pathname.replace(/\/$/, "") || "/" });

  function logout() {
    setToken(null);
    queryClient.clear();
    void navigate({ to: "/login" });
  }

  return (
    <div className="app">
      <header className="topbar">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true">▶</span> jobrunner
        </Link>
        <nav aria-label="Main" className="nav">
          {NAV.filter((item) => !item.needs || can(item.needs)).map((item) => (
            <Link
              key={item.to}
              to={item.to}
              // Our own rule of what is active: the router's (a prefix match) would also mark
              // Jobs on the new-job form.
              activeOptions={{ exact: true }}
              activeProps={{}}
              className={item.active(pathname) ? "active" : undefined}
              aria-current={item.active(pathname) ? "page" : undefined}
            >
              {item.label}
            </Link>
          ))}
        </nav>
        <div className="account">
          <span className="tenant" aria-label="Tenant" title="Tenant">
            {user?.tenant.name ?? "…"}
          </span>
          <Link
            to="/account"
            className={pathname === "/account" ? "user active" : "user"}
            // Named by its text (username, role): an aria-label would be found by getByLabel too.
            title={user ? `${user.username} (${user.role}): account and password` : "Account"}
          >
            {user?.username}
            {user && <span className="role-tag">{user.role}</span>}
          </Link>
          <button type="button" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      <main className="page">
        <Outlet />
      </main>
      <footer className="footer muted small">
        jobrunner <span className="mono" aria-label="Version">{__JOBRUNNER_VERSION__}</span>
      </footer>
    </div>
  );
}
