import { createFileRoute } from "@tanstack/react-router";
import { ACTIONS, type AuditFilters, AuditPage } from "../../components/Audit/AuditPage";

// The filters live in the URL, as the jobs list's do: a filtered view can be shared and
// survives a reload.
export const Route = createFileRoute("/_layout/audit")({
  validateSearch: (search: Record<string, unknown>): AuditFilters => {
    const text = (key: string) => (typeof search[key] === "string" && search[key] ? (search[key] as string) : undefined);
    const action = text("action");
    return {
      action: ACTIONS.find((known) => known === action),
      actor: text("actor")?.trim() || undefined,
    };
  },
  component: AuditRoute,
});

function AuditRoute() {
  const filters = Route.useSearch();
  const navigate = Route.useNavigate();
  return <AuditPage filters={filters} onFiltersChange={(next) => navigate({ search: next, replace: true })} />;
}
