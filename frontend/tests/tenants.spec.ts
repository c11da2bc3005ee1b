import { expect, test } from "@playwright/test";
import { logIn, shot } from "./helpers";

// The e2e platform runs in development mode: the platform admin is admin / admin.
const PLATFORM_ADMIN = { username: "admin", password: "admin" };

test("the platform admin creates a tenant whose admin then signs in to an empty tenant", async ({ page }) => {
  const name = `e2e-tenant-${Date.now().toString(36)}`;
  const admin = { username: `${name}-boss`, password: "a-long-password-1" };

  // Given the platform admin on the Tenants page
  await logIn(page, PLATFORM_ADMIN);
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Tenants" }).click();
  await page.getByLabel("Tenant name").fill(name);
  await page.getByLabel("Admin username").fill(admin.username);
  await page.getByLabel("Admin password").fill(admin.password);
  await page.getByRole("button", { name: "Create tenant" }).click();

  // Then it is listed, and a second one of that name is refused with the API's reason
  await expect(page.getByRole("status")).toContainText(`Created ${name}`);
  await expect(page.getByRole("row", { name: `Tenant ${name}` })).toBeVisible();
  await shot(page, "tenants");
  for (const [scheme, size, tag] of [
    ["light", { width: 390, height: 844 }, "phone-light"],
    ["dark", { width: 390, height: 844 }, "phone-dark"],
    ["dark", { width: 1280, height: 800 }, "desktop-dark"],
  ] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.setViewportSize(size);
    await shot(page, `tenants-${tag}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `tenants at ${size.width}px scrolls sideways`).toBeLessThanOrEqual(0);
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByLabel("Tenant name").fill(name);
  await page.getByLabel("Admin username").fill(`${admin.username}-2`);
  await page.getByLabel("Admin password").fill(admin.password);
  await page.getByRole("button", { name: "Create tenant" }).click();
  await expect(page.getByRole("alert")).toContainText(`tenant '${name}' exists`);

  // And its admin signs in to it: its name in the header, no jobs, no Tenants page
  await page.getByRole("button", { name: "Log out" }).click();
  await logIn(page, admin);
  await expect(page.getByLabel("Tenant")).toHaveText(name);
  await expect(nav.getByRole("link", { name: "Tenants" })).toHaveCount(0);
  await nav.getByRole("link", { name: "Jobs", exact: true }).click();
  await expect(page.getByText("No jobs yet.")).toBeVisible();
});
