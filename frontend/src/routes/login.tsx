import { createFileRoute, redirect } from "@tanstack/react-router";
import { LoginForm } from "../components/Common/LoginForm";
import { isLoggedIn } from "../lib/auth";

export const Route = createFileRoute("/login")({
  validateSearch: (search: Record<string, unknown>): { redirect?: string } =>
    typeof search.redirect === "string" ? { redirect: search.redirect } : {},
  beforeLoad: () => {
    if (isLoggedIn()) throw redirect({ to: "/" });
  },
  component: LoginPage,
});

function LoginPage() {
  const { redirect: target } = Route.useSearch();
  return <LoginForm redirectTo={target} />;
}
