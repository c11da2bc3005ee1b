import { expect, test } from "@playwright/test";
import { logIn, shot } from "./helpers";

test("an API key is shown once when created, listed, then revoked", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await logIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Credentials" }).click();
  await page.getByLabel("Name").fill("e2e-submitter");
  await page.getByLabel("Kind").selectOption("submit");
  await page.getByRole("button", { name: "Create key" }).click();

  // The key is shown once, and copies
  const key = page.getByRole("textbox", { name: "New API key" });
  await expect(key).toHaveValue(/.{20,}/);
  const secret = await key.inputValue();
  await page.getByRole("button", { name: "Copy" }).click();
  await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  const row = page.getByRole("row", { name: "Key e2e-submitter" });
  await expect(row).toContainText("submit");
  await expect(row).toContainText("never");
  await expect(row).not.toContainText(secret);
  await shot(page, "credentials");

  // Revoking asks once more, then the key is gone
  await page.getByRole("button", { name: "Done" }).click();
  await expect(key).toHaveCount(0);
  await row.getByRole("button", { name: "Revoke e2e-submitter" }).click();
  await row.getByRole("button", { name: "Yes, revoke" }).click();
  await expect(row).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("row", { name: "Key e2e-worker" })).toBeVisible();
  await expect(page.getByRole("row", { name: "Key e2e-submitter" })).toHaveCount(0);
});
