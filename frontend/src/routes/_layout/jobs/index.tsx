import { createFileRoute } from "@tanstack/react-router";
import { JobsPage } from "../../../components/Jobs/JobsPage";
import type { JobFilters } from "../../../components/Jobs/queries";

const STATUSES = ["queued", "running", "succeeded", "failed", "timed_out", "cancelled"];

// Filters live in the URL so a filtered view can be shared and survives a reload.
export const Route = createFileRoute("/_layout/jobs/")({
  validateSearch: (search: Record<string, unknown>): JobFilters => {
    const text = (key: string) => (typeof search[key] === "string" && search[key] ? (search[key] as string) : undefined);
    const status = text("status");
    return {
      status: status && STATUSES.includes(status) ? (status as JobFilters["status"]) : undefined,
      label: text("label"),
      worker: text("worker"),
      q: text("q"),
    };
  },
  component: JobsRoute,
});

function JobsRoute() {
  const filters = Route.useSearch();
  const navigate = Route.useNavigate();
  return <JobsPage filters={filters} onFiltersChange={(next) => navigate({ search: next, replace: true })} />;
}
