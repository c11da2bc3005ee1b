import { expect, test } from "@playwright/test";
import { logIn, shot } from "./helpers";

test("workers are listed, and draining one shows it draining", async ({ page }) => {
  await logIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Workers" }).click();
  const main = page.getByRole("row", { name: "Worker e2e-worker" });
  const spare = page.getByRole("row", { name: "Worker e2e-spare" });
  await expect(main).toContainText("online");
  await expect(main).toContainText("e2e");
  await expect(main.getByRole("meter")).toHaveAttribute("aria-valuemax", "4");
  await expect(spare).toContainText("online");
  await shot(page, "workers");

  await spare.getByRole("button", { name: "Drain e2e-spare" }).click();
  await expect(spare).toContainText("draining");
  await expect(spare.getByRole("button", { name: "Drain e2e-spare" })).toBeDisabled();
  await expect(main).toContainText("online");
  await shot(page, "workers-drained");
});
