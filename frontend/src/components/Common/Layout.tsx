import { useQueryClient } from "@tanstack/react-query";
import { Link, Outlet, useNavigate } from "@tanstack/react-router";
import { setToken } from "../../lib/auth";
import { useMe } from "./useMe";

const NAV = [
  { to: "/", label: "Overview", exact: true },
  { to: "/jobs", label: "Jobs", exact: false },
  { to: "/jobs/new", label: "New job", exact: true },
  { to: "/workers", label: "Workers", exact: true },
  { to: "/credentials", label: "Credentials", exact: true },
] as const;

export function Layout() {
  const { data: user } = useMe();
  const navigate = useNavigate();
  const queryClient = useQueryClient();

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
          {NAV.map((item) => (
            <Link
              key={item.to}
              to={item.to}
              activeOptions={{ exact: item.exact, includeSearch: false }}
              activeProps={{ className: "active", "aria-current": "page" }}
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
