import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { apiSubmit, logIn, shot, submitCommand } from "./helpers";

test.beforeEach(async ({ page }) => {
  await logIn(page);
});

test("a job submitted from the form shows its log live, then in the jobs table", async ({ page }) => {
  // Given a job that writes to stdout (with colour) and stderr for a few seconds
  const command = [
    "for i in 1 2 3 4 5; do",
    'echo "out line $i";',
    "printf '\\033[32mgreen %s\\033[0m\\n' $i;",
    'echo "err line $i" >&2;',
    "sleep 0.7; done",
  ].join(" ");
  const name = `e2e live log ${Date.now().toString(36)}`; // unique when specs rerun on one platform
  await submitCommand(page, command, { name, labels: "e2e" });

  // Then its log arrives while it runs, line by line
  const log = page.getByRole("log", { name: "Job output" });
  await expect(log.getByText("out line 1")).toBeVisible();
  await expect(page.getByText("● Live")).toBeVisible();
  await expect(log.getByText("out line 5")).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText(/Ended: succeeded \(exit 0\)/)).toBeVisible();
  // stderr is marked, ANSI colours are rendered, lines are numbered
  await expect(log.locator(".log-stderr", { hasText: "err line 3" })).toHaveCount(1);
  await expect(log.locator("span.ansi-fg-2", { hasText: "green 2" })).toBeVisible();
  await expect(log.locator(".log-row", { hasText: "out line 1" }).locator(".log-no")).toHaveText("1");
  await expect(page.getByRole("heading", { name }).getByText("succeeded")).toBeVisible();
  await shot(page, "job-detail");
  // The whole log downloads as text, stdout and stderr in the order they were read
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^job-[0-9a-f]{24}-attempt-1\.log$/);
  const text = readFileSync((await file.path())!, "utf8");
  expect(text).toContain("out line 1");
  expect(text.indexOf("err line 5")).toBeGreaterThan(text.indexOf("out line 4"));

  // And the jobs table lists it, also when filtered by status and label, and finds it by search
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Jobs", exact: true }).click();
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toContainText("succeeded");
  await expect(row).toContainText("e2e-worker");
  await page.getByLabel("Status").selectOption("succeeded");
  await page.getByLabel("Label", { exact: true }).fill("e2e");
  await expect(page).toHaveURL(/status=succeeded/);
  await expect(page).toHaveURL(/label=e2e/);
  await expect(row).toBeVisible();
  await page.getByLabel("Search").fill("no such job anywhere");
  await expect(page.getByText("No job matches these filters.")).toBeVisible();
  await page.getByLabel("Search").fill(name.split(" ").pop()!);
  await expect(row).toBeVisible();
  await shot(page, "jobs");
});

test("rows appear and change live from the events feed, without reload", async ({ page }) => {
  // Given the jobs page, following the live feed
  let navigations = 0;
  let feeds = 0;
  page.on("framenavigated", () => navigations++);
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/api/v1/events") feeds++;
  });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Jobs", exact: true }).click();
  await expect(page.getByRole("status", { name: "Updates" })).toHaveText("● Live");
  navigations = 0;

  // When another client submits a job that runs for a few seconds
  const name = `e2e live row ${Date.now().toString(36)}`;
  await apiSubmit({ name, command: "sleep 3; echo done", labels: ["e2e"] });

  // Then its row appears, runs and ends on this page, each well within the 15 s safety poll
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toBeVisible({ timeout: 8_000 });
  await expect(row).toContainText("running", { timeout: 8_000 });
  await expect(row).toContainText("succeeded", { timeout: 8_000 });
  expect(navigations).toBe(0);
  expect(feeds).toBeGreaterThan(0);

  // And the overview counts it (GET /stats) and lists it among the recent jobs
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
  await expect(page.getByRole("table", { name: "Recent jobs" }).getByRole("row", { name: new RegExp(name) })).toBeVisible();
  await expect(page.getByRole("link", { name: /^succeeded: [1-9]\d*$/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /jobs per minute/i })).toBeVisible();
});

test("the API's validation errors appear at their fields", async ({ page }) => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "New job" }).click();
  await page.getByLabel("Command", { exact: true }).fill("true");
  await page.getByLabel("Priority").fill("42");
  await page.getByLabel("Environment").fill("1BAD=x");
  await page.getByRole("button", { name: "Submit job" }).click();
  // FastAPI's 422 detail, loc ["body", "priority"] and ["body", "env"]
  await expect(page.getByLabel("Priority")).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#job-priority-error")).toContainText(/less than or equal to 9/);
  await expect(page.locator("#job-env-error")).toContainText(/not valid/);
  await expect(page).toHaveURL(/\/jobs\/new$/);
  await shot(page, "new-job-errors");
});

test("cancel stops a running job", async ({ page }) => {
  await submitCommand(page, "sleep 30", { name: "e2e cancel me" });
  const heading = page.getByRole("heading", { name: /e2e cancel me/ });
  await expect(heading.getByText("running")).toBeVisible({ timeout: 20_000 });
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(heading.getByText("cancelled")).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole("button", { name: "Cancel" })).toBeDisabled();
  // Rerun makes a new job and opens it
  const before = page.url();
  await page.getByRole("button", { name: "Rerun" }).click();
  await expect(page).not.toHaveURL(before);
  await expect(page.getByRole("link", { name: before.split("/").pop()! })).toBeVisible(); // "Rerun of"
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("heading", { name: /e2e cancel me/ }).getByText("cancelled")).toBeVisible({ timeout: 20_000 });
});
