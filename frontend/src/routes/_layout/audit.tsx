import { createFileRoute } from "@tanstack/react-router";
import { AuditPage } from "../../components/Audit/AuditPage";

export const Route = createFileRoute("/_layout/audit")({ component: AuditPage });
