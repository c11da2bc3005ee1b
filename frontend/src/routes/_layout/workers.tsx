import { createFileRoute } from "@tanstack/react-router";
import { WorkersPage } from "../../components/Workers/WorkersPage";

export const Route = createFileRoute("/_layout/workers")({ component: WorkersPage });
