import { createFileRoute } from "@tanstack/react-router";
import { NewJobPage } from "../../../components/Jobs/NewJobPage";

export const Route = createFileRoute("/_layout/jobs/new")({ component: NewJobPage });
