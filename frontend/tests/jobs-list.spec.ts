import { expect, type Page, test } from "@playwright/test";
import { apiPost, apiSubmit, logIn, shot } from "./helpers";

test.beforeEach(async ({ page }) => {
  await logIn(page);
});

/** The names of the rows shown, top to bottom, of the jobs named "<tag> …". */
async function names(page: Page, tag: string): Promise<string[]> {
  const cells = page.getByRole("table").getByRole("row").filter({ hasText: tag }).locator(".cell-title");
  return (await cells.allTextContents()).map((text) => text.trim());
}

/** Jobs that wait in their queue (no worker has their label), created a few ms apart. */
async function queuedJobs(tag: string, count: number): Promise<{ id: string; created_at: string }[]> {
  const jobs = [];
  for (let n = 1; n <= count; n++) {
    jobs.push((await apiSubmit({ name: `${tag} ${n}`, command: "true", labels: ["nowhere"] })) as { id: string; created_at: string });
    await new Promise((done) => setTimeout(done, 20));
  }
  return jobs;
}

test("the jobs table sorts and keeps to a time range, in the URL", async ({ page }) => {
  // Given three jobs created one after the other
  const tag = `e2e sort ${Date.now().toString(36)}`;
  const jobs = await queuedJobs(tag, 3);
  await page.goto(`/jobs?q=${encodeURIComponent(tag)}`);
  await expect.poll(() => names(page, tag)).toEqual([`${tag} 3`, `${tag} 2`, `${tag} 1`]); // newest first

  // When sorted oldest first, the order turns round, and the URL says so
  await page.getByLabel("Sort", { exact: true }).selectOption({ label: "Oldest first" });
  await expect(page).toHaveURL(/sort=created_at/);
  await expect.poll(() => names(page, tag)).toEqual([`${tag} 1`, `${tag} 2`, `${tag} 3`]);

  // A range from the second job's creation on (to the millisecond, from the URL) leaves the first out
  await page.goto(`/jobs?q=${encodeURIComponent(tag)}&sort=created_at&from=${encodeURIComponent(jobs[1].created_at)}`);
  await expect.poll(() => names(page, tag)).toEqual([`${tag} 2`, `${tag} 3`]);
  await expect(page.getByLabel("Created from")).not.toHaveValue("");

  // Created before a minute a year ago: nothing; then the range set in the fields, around now
  const local = (ms: number) => {
    const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
    return d.toISOString().slice(0, 16);
  };
  await page.getByLabel("Created from").fill("");
  await page.getByLabel("Created before").fill(local(Date.now() - 365 * 86_400_000));
  await expect(page.getByText("No job matches these filters.")).toBeVisible();
  await page.getByLabel("Created before").fill(local(Date.now() + 120_000));
  await page.getByLabel("Created from").fill(local(Date.now() - 120_000));
  await expect(page).toHaveURL(/from=.*to=|to=.*from=/);
  await expect.poll(() => names(page, tag)).toEqual([`${tag} 1`, `${tag} 2`, `${tag} 3`]);
  await shot(page, "jobs-sorted");

  // A bad range is the API's 422, said where the table would be
  await page.getByLabel("Created before").fill(local(Date.now() - 600_000));
  await expect(page.getByRole("alert")).toContainText("created_after must be earlier than created_before");

  // Clear filters brings back the default view
  await page.getByRole("button", { name: "Clear filters" }).click();
  await expect(page).toHaveURL(/\/jobs$/);
  await expect(page.getByLabel("Sort", { exact: true })).toHaveValue("-created_at");
  await apiPost("/jobs/cancel", { ids: jobs.map((job) => job.id) }); // nothing left waiting
});

test("selected rows are cancelled, then rerun, each in one request", async ({ page }) => {
  // Given three queued jobs on the jobs page
  const tag = `e2e bulk ${Date.now().toString(36)}`;
  await queuedJobs(tag, 3);
  const bulkCalls: string[] = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (request.method() === "POST" && /^\/api\/v1\/jobs\/(cancel|rerun)$/.test(path)) bulkCalls.push(path);
  });
  await page.goto(`/jobs?q=${encodeURIComponent(tag)}`);
  const row = (n: number) => page.getByRole("row").filter({ has: page.getByRole("link", { name: `${tag} ${n}`, exact: true }) });
  await expect(row(3)).toContainText("queued");
  const toolbar = page.getByRole("toolbar", { name: "Selected jobs" });
  await expect(toolbar.getByRole("button", { name: "Rerun selected" })).toBeDisabled();

  // When two are selected and cancelled (after a confirmation)
  await page.getByRole("checkbox", { name: `Select ${tag} 1` }).check();
  await page.getByRole("checkbox", { name: `Select ${tag} 3` }).check();
  await expect(toolbar).toContainText("2 selected");
  await shot(page, "jobs-selected");
  await toolbar.getByRole("button", { name: "Cancel 2 selected" }).click();
  await toolbar.getByRole("button", { name: "Yes, cancel 2" }).click();

  // Then one request cancelled both, the page says so, and the third is still queued
  await expect(page.getByRole("status").filter({ hasText: "Cancel:" })).toHaveText(/Cancel: 2 jobs cancelled\./);
  await expect(row(1)).toContainText("cancelled");
  await expect(row(3)).toContainText("cancelled");
  await expect(row(2)).toContainText("queued");
  await expect(toolbar).toContainText("Select jobs to");
  expect(bulkCalls).toEqual(["/api/v1/jobs/cancel"]);

  // Sorted by when they ended, only the two that did are listed, latest first
  await page.getByLabel("Sort", { exact: true }).selectOption({ label: "Ended, latest first" });
  await expect.poll(() => names(page, tag)).toHaveLength(2);
  await expect(page.getByRole("columnheader", { name: "Ended" })).toBeVisible();
  await page.getByLabel("Sort", { exact: true }).selectOption({ label: "Newest first" });

  // When every row of the page is selected and rerun
  await expect.poll(() => names(page, tag)).toHaveLength(3);
  await page.getByRole("checkbox", { name: "Select every job on this page" }).check();
  await expect(toolbar).toContainText("3 selected");
  await toolbar.getByRole("button", { name: "Rerun selected" }).click();

  // Then three new jobs are made in one more request and appear in the table
  await expect(page.getByRole("status").filter({ hasText: "Rerun:" })).toHaveText(/Rerun: 3 new jobs started\./);
  await expect.poll(() => names(page, tag)).toHaveLength(6);
  expect(bulkCalls).toEqual(["/api/v1/jobs/cancel", "/api/v1/jobs/rerun"]);
  await shot(page, "jobs-bulk");

  // Tidy up: the queued ones cancelled too (one had already ended, and says so)
  await page.getByRole("checkbox", { name: "Select every job on this page" }).check();
  await toolbar.getByRole("button", { name: "Cancel 6 selected" }).click();
  await toolbar.getByRole("button", { name: "Yes, cancel 6" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Cancel:" })).toHaveText(
    "Cancel: 4 jobs cancelled; 2 jobs had already ended. Dismiss",
  );
});
