import { createFileRoute, redirect } from "@tanstack/react-router";
import { Layout } from "../components/Common/Layout";
import { isLoggedIn } from "../lib/auth";

// Every page but the login page: signed-in users only.
export const Route = createFileRoute("/_layout")({
  beforeLoad: ({ location }) => {
    if (!isLoggedIn()) throw redirect({ to: "/login", search: { redirect: location.href } });
  },
  component: Layout,
});
