import { QueryClientProvider } from "@tanstack/react-query";
import { createRouter, RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { configureApi } from "./lib/api";
import { setToken } from "./lib/auth";
import { createQueryClient, setUnauthorizedHandler } from "./lib/queryClient";
import { routeTree } from "./routeTree.gen";
import "./styles.css";

configureApi();
const queryClient = createQueryClient();
const router = createRouter({ routeTree, context: { queryClient }, defaultPreload: "intent" });

setUnauthorizedHandler(() => {
  setToken(null);
  queryClient.clear();
  const here = router.state.location;
  if (here.pathname !== "/login") {
    void router.navigate({ to: "/login", search: { redirect: here.href } });
  }
});

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
