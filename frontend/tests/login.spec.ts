import { expect, test } from "@playwright/test";
import { env, logIn, shot } from "./helpers";

test("a wrong password is refused, the right one opens the overview", async ({ page }) => {
  // Given the login page
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  await shot(page, "login");
  // When a wrong password is given, an error says so
  await page.getByLabel("Username").fill(env.username);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText(/wrong username or password/i);
  // Then the right one opens the overview, with the tenant's name in view
  await logIn(page);
  await expect(page.getByLabel("Tenant")).toHaveText(env.tenant);
  await expect(page.getByRole("heading", { name: "Workers" })).toBeVisible();
  await expect(page.getByText(/2\s*online/)).toBeVisible();
  await shot(page, "overview");
  // And logging out returns to the login page; the pages are closed to it
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/workers");
  await expect(page).toHaveURL(/\/login/);
});
