import { expect, test } from "@playwright/test";
import { apiSubmit, logIn, shot, waitFinal } from "./helpers";

test("the overview charts run time and failure rate beside jobs per minute", async ({ page }) => {
  // Given jobs that ended in the last minutes: two that ran about a second, one that failed
  const jobs = await Promise.all([
    apiSubmit({ name: "e2e chart slow 1", command: "sleep 1", labels: ["e2e"] }),
    apiSubmit({ name: "e2e chart slow 2", command: "sleep 1.2", labels: ["e2e"] }),
    apiSubmit({ name: "e2e chart fails", command: "exit 1", labels: ["e2e"] }),
  ]);
  await Promise.all(jobs.map((job) => waitFinal(job.id)));

  // When the overview is opened
  await logIn(page);

  // Then the three charts are there, side by side, each saying what it shows
  await expect(page.getByRole("img", { name: /jobs per minute/i })).toBeVisible();
  const runTime = page.getByRole("img", { name: /Run time per minute over the last hour: the slowest minute's 95th percentile \d/ });
  await expect(runTime).toBeVisible();
  await expect(runTime.locator(".chart-bar-p95").first()).toBeAttached();
  const failures = page.getByRole("img", { name: /Failure rate per minute over the last hour: [1-9]\d* of [1-9]\d* jobs? that ended failed/ });
  await expect(failures).toBeVisible();
  await expect(failures.locator(".chart-bar-failed").first()).toBeAttached();
  await expect(page.getByText(/[1-9]\d* of [1-9]\d* jobs that ended failed or timed out \(\d+\s%\)/)).toBeVisible();
  const [a, b] = await Promise.all([runTime.boundingBox(), failures.boundingBox()]);
  expect(Math.abs(a!.y - b!.y)).toBeLessThan(2); // in one row on a desktop screen
  await shot(page, "overview-charts");
});
