import { createFileRoute } from "@tanstack/react-router";
import { CredentialsPage } from "../../components/Credentials/CredentialsPage";

export const Route = createFileRoute("/_layout/credentials")({ component: CredentialsPage });
