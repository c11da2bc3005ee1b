import { createFileRoute } from "@tanstack/react-router";
import { TenantsPage } from "../../components/Tenants/TenantsPage";

export const Route = createFileRoute("/_layout/tenants")({ component: TenantsPage });
