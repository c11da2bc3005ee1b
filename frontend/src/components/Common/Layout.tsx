import { useQueryClient } from "@tanstack/react-query";
import { Link, Outlet, useNavigate, useRouterState } from "@tanstack/react-router";
import { setToken } from "../../lib/auth";
import { useMe } from "./useMe";

// Which nav item a path belongs to: "Jobs" covers a job's page but not the new-job form.
const NAV = [
  { to: "/", label: "Overview", active: (p: string) => p === "/" },
  { to: "/jobs", label: "Jobs", active: (p: string) => p.startsWith("/jobs") && p !== "/jobs/new" },
  { to: "/jobs/new", label: "New job", active: (p: string) => p === "/jobs/new" },
  { to: "/workers", label: "Workers", active: (p: string) => p === "/workers" },
  { to: "/secrets", label: "Secrets", active: (p: string) => p === "/secrets" },
  { to: "/credentials", label: "Credentials", active: (p: string) => p === "/credentials" },
  { to: "/tenants", label: "Tenants", active: (p: string) => p === "/tenants", adminOnly: true },
] as const;

export function Layout() {
  const { data: user } = useMe();
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
          {NAV.filter((item) => !("adminOnly" in item) || user?.platform_admin).map((item) => (
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
          <span className="user muted">{user?.username}</span>
          <button type="button" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      <main className="page">
        <Outlet />
      </main>
    </div>
  );
}
