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
  // shows offline (the live feed says so), never online again.
  await expect(spare).toContainText(/draining|offline/);
  await expect(spare).toContainText("offline", { timeout: 15_000 });
  await expect(main).toContainText("online");
  await shot(page, "workers-drained");

  // An offline worker can be removed from the list (after a confirmation); an online one cannot.
  await expect(main.getByRole("button", { name: "Remove e2e-worker" })).toHaveCount(0);
  await spare.getByRole("button", { name: "Remove e2e-spare" }).click();
  await spare.getByRole("button", { name: "Yes, remove" }).click();
  await expect(spare).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("row", { name: "Worker e2e-worker" })).toContainText("online");
  await expect(page.getByRole("row", { name: "Worker e2e-spare" })).toHaveCount(0);
});
