import { expect, test } from "@playwright/test";
import { logIn, shot, submitCommand } from "./helpers";

test("a secret is set, used by a job as *** in its log, listed without its value, then deleted", async ({ page }) => {
  const name = `E2E_TOKEN_${Date.now().toString(36).toUpperCase()}`; // unique when specs rerun
  const value = `s3cr3t-${Math.random().toString(36).slice(2)}`;
  await logIn(page);

  // Given a secret set from the Secrets page
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Secrets" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Value").fill(value);
  await page.getByRole("button", { name: "Save secret" }).click();
  await expect(page.getByRole("status")).toContainText(`Saved ${name}`);
  await expect(page.getByLabel("Value")).toHaveValue(""); // not left on the page
  const row = page.getByRole("row", { name: `Secret ${name}` });
  await expect(row).toBeVisible();
  await expect(page.locator("body")).not.toContainText(value);
  await shot(page, "secrets");

  // When a job from the form uses it
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "New job" }).click();
  await expect(page.getByRole("heading", { name: "New job" })).toBeVisible();
  await page.getByLabel("Secrets", { exact: true }).fill(name);
  // (the command must not hold the value: it is shown on the job's page)
  await submitCommand(page, `echo "token=$${name}"; echo "length=$\{#${name}}"`, {
    name: "e2e secret user",
    open: false,
  });

  // Then the job got the value, and its log shows *** in its place
  const log = page.getByRole("log", { name: "Job output" });
  await expect(log.getByText("token=***")).toBeVisible({ timeout: 20_000 });
  await expect(log.getByText(`length=${value.length}`)).toBeVisible();
  await expect(page.locator("body")).not.toContainText(value);

  // And a job naming a secret that does not exist is refused at the Secrets field
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "New job" }).click();
  await expect(page.getByRole("heading", { name: "New job" })).toBeVisible();
  await page.getByLabel("Command", { exact: true }).fill("true");
  await page.getByLabel("Secrets", { exact: true }).fill("NO_SUCH_SECRET");
  await page.getByRole("button", { name: "Submit job" }).click();
  await expect(page.getByLabel("Secrets", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText(/unknown secret NO_SUCH_SECRET/)).toBeVisible();

  // And deleting asks once more, then the secret is gone
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Secrets" }).click();
  await row.getByRole("button", { name: `Delete ${name}` }).click();
  await row.getByRole("button", { name: "Yes, delete" }).click();
  await expect(row).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("heading", { name: "Your secrets" })).toBeVisible();
  await expect(page.getByRole("row", { name: `Secret ${name}` })).toHaveCount(0);
});
