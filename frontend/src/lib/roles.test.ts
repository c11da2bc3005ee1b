import { can } from "./roles";

const as = (role: "admin" | "member" | "viewer", platform_admin = false) => ({ role, platform_admin });

describe("can", () => {
  it("lets a viewer do nothing but read", () => {
    for (const what of ["submitJobs", "controlJobs", "manageKeys", "manageSecrets", "manageWorkers", "manageSchedules", "manageUsers", "readAudit", "manageTenants"] as const) {
      expect(can(as("viewer"), what)).toBe(false);
    }
  });

  it("lets a member submit, cancel and rerun jobs, and no more", () => {
    expect(can(as("member"), "submitJobs")).toBe(true);
    expect(can(as("member"), "controlJobs")).toBe(true);
    expect(can(as("member"), "manageKeys")).toBe(false);
    expect(can(as("member"), "manageSchedules")).toBe(false);
    expect(can(as("member"), "manageUsers")).toBe(false);
    expect(can(as("member"), "readAudit")).toBe(false);
  });

  it("lets an admin do everything of the tenant, but not manage tenants", () => {
    for (const what of ["submitJobs", "controlJobs", "manageKeys", "manageSecrets", "manageWorkers", "manageSchedules", "manageUsers", "readAudit"] as const) {
      expect(can(as("admin"), what)).toBe(true);
    }
    expect(can(as("admin"), "manageTenants")).toBe(false);
    expect(can(as("admin", true), "manageTenants")).toBe(true);
  });

  it("offers nothing while the user is not known yet", () => {
    expect(can(undefined, "submitJobs")).toBe(false);
  });
});
