import { createFileRoute } from "@tanstack/react-router";
import { JobDetailPage } from "../../../components/Jobs/JobDetailPage";

export const Route = createFileRoute("/_layout/jobs/$jobId")({ component: JobDetailRoute });

function JobDetailRoute() {
  const { jobId } = Route.useParams();
  return <JobDetailPage jobId={jobId} />;
}
