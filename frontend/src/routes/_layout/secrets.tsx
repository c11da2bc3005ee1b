import { createFileRoute } from "@tanstack/react-router";
import { SecretsPage } from "../../components/Secrets/SecretsPage";

export const Route = createFileRoute("/_layout/secrets")({ component: SecretsPage });
