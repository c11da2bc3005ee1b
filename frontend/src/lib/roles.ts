// What each role may do, as the API enforces it (SPEC §3): a viewer reads; a member also
// submits, cancels and reruns jobs; an admin also manages keys, secrets, workers, schedules and
// users, and reads the audit log. The UI only hides what it would not be allowed to do.
import type { MeOut } from "../client";

export type Role = MeOut["role"];

const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2 };

/** The least role each action needs. */
export const NEEDS = {
  submitJobs: "member",
  controlJobs: "member", // cancel, rerun, bulk
  manageKeys: "admin",
  manageSecrets: "admin",
  manageWorkers: "admin", // drain, remove
  manageSchedules: "admin", // create, pause/resume, trigger, delete
  manageUsers: "admin",
  readAudit: "admin",
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof NEEDS | "manageTenants";

/** Whether the signed-in user may do it; nobody may while who they are is not known yet. */
export function can(me: Pick<MeOut, "role" | "platform_admin"> | undefined, what: Permission): boolean {
  if (!me) return false;
  if (what === "manageTenants") return me.platform_admin;
  return RANK[me.role] >= RANK[NEEDS[what]];
}
