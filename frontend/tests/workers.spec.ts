import { expect, test } from "@playwright/test";
import { logIn, shot, submitCommand } from "./helpers";

test("workers are listed, and draining one shows it draining", async ({ page }) => {
  await logIn(page);
  // Given a job running on the spare worker (a drained worker with nothing to finish goes
  // offline at once; this one stays draining until the job ends)
  await submitCommand(page, "sleep 15", { name: "e2e keeps spare busy", labels: "spare" });
  await expect(page.getByRole("heading", { name: /e2e keeps spare busy/ }).getByText("running")).toBeVisible();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Workers" }).click();
  const main = page.getByRole("row", { name: "Worker e2e-worker" });
  const spare = page.getByRole("row", { name: "Worker e2e-spare" });
  await expect(main).toContainText("online");
  await expect(main).toContainText("e2e");
  await expect(main.getByRole("meter")).toHaveAttribute("aria-valuemax", "4");
  await expect(spare).toContainText("online");
  await expect(spare.getByRole("meter")).toHaveAttribute("aria-valuenow", "1");
  await shot(page, "workers");

  await spare.getByRole("button", { name: "Drain e2e-spare" }).click();
  await expect(spare).toContainText("draining");
  await expect(spare.getByRole("button", { name: "Drain e2e-spare" })).toBeDisabled();
  await expect(main).toContainText("online");
  await page.waitForTimeout(3500); // one more poll of the list: still draining, not back online
  await expect(spare).toContainText("draining");
  await shot(page, "workers-drained");
});
