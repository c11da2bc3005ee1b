import { createFileRoute } from "@tanstack/react-router";
import { Overview } from "../../components/Overview/Overview";

export const Route = createFileRoute("/_layout/")({ component: Overview });
