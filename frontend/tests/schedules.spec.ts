import { expect, test } from "@playwright/test";
import { api, logIn, shot, unique } from "./helpers";

test("a schedule is made with a live preview, its timing changed, paused and resumed, triggered into its history, and deleted", async ({ page }) => {
  await logIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Schedules" }).click();
  await expect(page.getByRole("heading", { name: "Schedules", exact: true })).toBeVisible();
  await page.getByRole("button", { name: "New schedule" }).click();
  const form = page.getByRole("form", { name: "New schedule" });
  const preview = form.getByRole("region", { name: "Next fire times" });

  // A bad expression: the API's reason, inline, before anything is sent
  await form.getByLabel("Cron expression").fill("61 * * * *");
  await expect(preview.getByRole("alert")).toContainText(/61|minute/i);
  // A good one: in words, and its next five fire times
  await form.getByLabel("Cron expression").fill("0 3 1 1 *");
  await form.getByLabel("Time zone").fill("Europe/Berlin");
  await expect(preview.getByRole("listitem")).toHaveCount(5);
  await expect(preview).toContainText("Europe/Berlin");
  await expect(preview.getByRole("listitem").first()).toContainText(/Jan/);
  await expect(preview.getByRole("listitem").first()).toContainText(/in \d+d/);
  // A zone that does not exist
  await form.getByLabel("Time zone").fill("Mars/Olympus_Mons");
  await expect(preview.getByRole("alert")).toContainText(/Mars\/Olympus_Mons/);
  await form.getByLabel("Time zone").fill("Europe/Berlin");
  await expect(preview.getByRole("listitem")).toHaveCount(5);

  const name = unique("e2e-new-year");
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Command", { exact: true }).fill("echo made by a schedule");
  await shot(page, "schedule-new");
  await form.getByRole("button", { name: "Create schedule" }).click();

  // Its page: active, next run in January, no job yet
  await expect(page).toHaveURL(/\/schedules\/[0-9a-f]{24}$/);
  await expect(page.getByRole("heading", { name })).toBeVisible();
  await expect(page.getByRole("heading", { name })).toContainText("active");
  const details = page.getByRole("region", { name: "Details" });
  await expect(details).toContainText("0 3 1 1 *");
  await expect(details).toContainText("Europe/Berlin");
  await expect(details).toContainText(/Jan/);
  const history = page.getByRole("region", { name: "History" });
  await expect(history).toContainText("It has made no job yet.");

  // Change when it runs, in place: a bad expression is refused with the reason, a good one
  // saved with its new next run
  await page.getByRole("button", { name: `Change when ${name} runs` }).click();
  const timing = page.getByRole("form", { name: "When it runs" });
  await expect(timing.getByLabel("Cron expression")).toHaveValue("0 3 1 1 *");
  await timing.getByLabel("Cron expression").fill("0 25 * * *");
  await timing.getByRole("button", { name: "Save" }).click();
  await expect(timing.getByRole("alert").first()).toContainText(/25|hour/i);
  await timing.getByLabel("Cron expression").fill("0 4 1 2 *");
  await timing.getByLabel("Time zone").fill("UTC");
  const newPreview = timing.getByRole("region", { name: "Next fire times" });
  await expect(newPreview).toContainText("(UTC)");
  await expect(newPreview.getByRole("listitem").first()).toContainText(/Feb/);
  await expect(timing.getByRole("alert")).toHaveCount(0); // the old reason went with the old value
  await shot(page, "schedule-timing");
  await timing.getByRole("button", { name: "Save" }).click();
  await expect(timing).toHaveCount(0);
  await expect(details).toContainText("0 4 1 2 *");
  await expect(details).toContainText("UTC");
  await expect(details).toContainText(/Feb/);
  const stored = (await (await api("GET", "/schedules")).json()) as { name: string; cron: string; timezone: string }[];
  expect(stored.find((s) => s.name === name)).toMatchObject({ cron: "0 4 1 2 *", timezone: "UTC" });

  // Pause, then resume
  await page.getByRole("button", { name: `Pause ${name}` }).click();
  await expect(page.getByRole("heading", { name })).toContainText("paused");
  await expect(details).toContainText(/Next run\s*paused/);
  await page.getByRole("button", { name: `Resume ${name}` }).click();
  await expect(page.getByRole("heading", { name })).toContainText("active");
  await expect(details).toContainText(/Next run\s*in \d+d/);

  // Trigger now: a job, linked at once and listed in the history, which links to the job
  await page.getByRole("button", { name: `Trigger ${name} now` }).click();
  const made = page.getByRole("status").filter({ hasText: "Made job" });
  await expect(made).toBeVisible();
  const jobId = (await made.getByRole("link").textContent())!.trim();
  const row = history.getByRole("row").filter({ hasText: "echo made by a schedule" });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("succeeded", { timeout: 30_000 });
  await shot(page, "schedule-detail");
  await row.getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${jobId}$`));
  // The job page names the schedule that made it
  const link = page.getByRole("link", { name: "Schedule that made the job" });
  await expect(link).toHaveText(name);

  // In the list: its description, state, next run and last job
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Schedules" }).click();
  const listed = page.getByRole("row", { name: `Schedule ${name}` });
  await expect(listed).toContainText("0 4 1 2 *");
  await expect(listed).toContainText(/At 04:00|February|Feb/i);
  await expect(listed).toContainText("active");
  await expect(listed).toContainText(/in \d+d/);
  await expect(listed.getByRole("link", { name: `Last job of ${name}` })).toHaveText(jobId.slice(-8));
  await shot(page, "schedules");

  // Delete asks once more
  await listed.getByRole("button", { name: `Delete ${name}` }).click();
  await listed.getByRole("button", { name: "Yes, delete" }).click();
  await expect(listed).toHaveCount(0);
  const gone = await api("GET", "/schedules");
  expect(((await gone.json()) as { name: string }[]).map((s) => s.name)).not.toContain(name);
});
