import { createFileRoute } from "@tanstack/react-router";
import { ScheduleDetailPage } from "../../../components/Schedules/ScheduleDetailPage";

export const Route = createFileRoute("/_layout/schedules/$scheduleId")({ component: ScheduleDetailRoute });

function ScheduleDetailRoute() {
  const { scheduleId } = Route.useParams();
  return <ScheduleDetailPage scheduleId={scheduleId} />;
}
