import { expect, test } from "@playwright/test";
import { logIn, shot } from "./helpers";

test("workers are listed, and draining one takes it out of service", async ({ page }) => {
  await logIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Workers" }).click();
  const main = page.getByRole("row", { name: "Worker e2e-worker" });
  const spare = page.getByRole("row", { name: "Worker e2e-spare" });
  await expect(main).toContainText("online");
  await expect(main).toContainText("e2e");
  await expect(main.getByRole("meter")).toHaveAttribute("aria-valuemax", "4");
  await expect(spare.getByRole("meter")).toHaveAttribute("aria-valuemax", "2");
  await expect(spare).toContainText("online");
  await shot(page, "workers");

  await spare.getByRole("button", { name: "Drain e2e-spare" }).click();
  // The API answers "draining"; a worker with nothing left to finish then leaves at once and
  // shows offline by the next poll, so either is right here, but never online again.
  await expect(spare).toContainText(/draining|offline/);
  await expect(spare.getByRole("button", { name: "Drain e2e-spare" })).toBeDisabled();
  await page.waitForTimeout(3500); // one more poll of the list
  await expect(spare).not.toContainText("online");
  await expect(main).toContainText("online");
  await shot(page, "workers-drained");
});
