import { createFileRoute } from "@tanstack/react-router";
import { SchedulesPage } from "../../../components/Schedules/SchedulesPage";

export const Route = createFileRoute("/_layout/schedules/")({ component: SchedulesPage });
