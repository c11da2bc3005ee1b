import { createFileRoute } from "@tanstack/react-router";
import { AccountPage } from "../../components/Account/AccountPage";

export const Route = createFileRoute("/_layout/account")({ component: AccountPage });
