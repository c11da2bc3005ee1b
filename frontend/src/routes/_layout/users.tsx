import { createFileRoute } from "@tanstack/react-router";
import { UsersPage } from "../../components/Users/UsersPage";

export const Route = createFileRoute("/_layout/users")({ component: UsersPage });
