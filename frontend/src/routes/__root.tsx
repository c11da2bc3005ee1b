import type { QueryClient } from "@tanstack/react-query";
import { createRootRouteWithContext, Link, Outlet } from "@tanstack/react-router";

export const Route = createRootRouteWithContext<{ queryClient: QueryClient }>()({
  component: () => <Outlet />,
  notFoundComponent: () => (
    <main className="page narrow">
      <h1>Not found</h1>
      <p>
        There is nothing here. <Link to="/">Back to the overview</Link>
      </p>
    </main>
  ),
});
