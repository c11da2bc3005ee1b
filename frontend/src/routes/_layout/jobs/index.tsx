import { createFileRoute } from "@tanstack/react-router";
import { JobsPage } from "../../../components/Jobs/JobsPage";
import { type JobFilters, SORTS } from "../../../components/Jobs/queries";

const STATUSES = ["queued", "running", "succeeded", "failed", "timed_out", "cancelled"];
const isInstant = (value: string | undefined) => value !== undefined && !Number.isNaN(Date.parse(value));

// Filters, the sort and the time range live in the URL so a view can be shared and survives a
// reload.
export const Route = createFileRoute("/_layout/jobs/")({
  validateSearch: (search: Record<string, unknown>): JobFilters => {
    const text = (key: string) => (typeof search[key] === "string" && search[key] ? (search[key] as string) : undefined);
    const status = text("status");
    const sort = text("sort");
    const [from, to] = [text("from"), text("to")];
    return {
      status: status && STATUSES.includes(status) ? (status as JobFilters["status"]) : undefined,
      label: text("label"),
      worker: text("worker"),
      q: text("q"),
      sort: SORTS.some((s) => s.value === sort) ? (sort as JobFilters["sort"]) : undefined,
      from: isInstant(from) ? from : undefined,
      to: isInstant(to) ? to : undefined,
    };
  },
  component: JobsRoute,
});

function JobsRoute() {
  const filters = Route.useSearch();
  const navigate = Route.useNavigate();
  return <JobsPage filters={filters} onFiltersChange={(next) => navigate({ search: next, replace: true })} />;
}
