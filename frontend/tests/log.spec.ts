import { expect, test } from "@playwright/test";
import { logIn, shot, submitCommand } from "./helpers";

test("a 100,000-line log: find in it, scroll it end to end, each line's time", async ({ page }) => {
  test.setTimeout(120_000);
  await logIn(page);
  // Given a 100,000-line log with "needle" in lines 25,000, 50,000, 75,000 and 100,000
  await submitCommand(page, `seq 1 100000 | awk '{ print ($1 % 25000 ? "line " $1 : "needle " $1) }'`, {
    name: "e2e find in log",
  });
  await expect(page.getByText(/^Ended: succeeded/)).toBeVisible({ timeout: 90_000 });
  await expect(page.getByText("100,000 lines")).toBeVisible();
  const log = page.getByRole("log", { name: "Job output" });
  const find = page.getByRole("searchbox", { name: "Find in log" });
  const matches = page.getByRole("status", { name: "Matches" });

  // When it is searched from the top (Ctrl-F in the log goes to the find box; a search starts
  // at the first line in view, as a browser's find does)
  await log.focus();
  await page.keyboard.press("Home");
  await expect(log.locator('.log-row[data-seq="1"]')).toBeInViewport();
  await page.keyboard.press("Control+f");
  await expect(find).toBeFocused();
  await find.fill("NEEDLE");

  // Then the count shows, and the view is at the first match, highlighted
  await expect(matches).toHaveText("1 of 4");
  const current = log.locator("mark.log-match-current");
  await expect(current).toHaveText("needle");
  await expect(log.locator('.log-row[data-seq="25000"]')).toBeInViewport();
  await expect(log.locator('.log-row[data-seq="25000"] mark.log-match-current')).toBeVisible();
  await shot(page, "job-log-find");

  // Enter goes to the next, Shift+Enter back and round the start to the last
  await find.press("Enter");
  await expect(matches).toHaveText("2 of 4");
  await expect(log.locator('.log-row[data-seq="50000"] mark.log-match-current')).toBeInViewport();
  await find.press("Shift+Enter");
  await find.press("Shift+Enter");
  await expect(matches).toHaveText("4 of 4");
  await expect(log.locator('.log-row[data-seq="100000"] mark.log-match-current')).toBeInViewport();
  await page.getByRole("button", { name: "Next match" }).click();
  await expect(matches).toHaveText("1 of 4");
  // Only a window of the rows is ever in the page
  expect(await log.locator(".log-row").count()).toBeLessThan(200);

  // Nothing found says so; Escape clears the search
  await find.fill("haystack");
  await expect(matches).toHaveText("No matches");
  await find.press("Escape");
  await expect(find).toHaveValue("");
  await expect(log.locator("mark")).toHaveCount(0);

  // Scrolled to the top, then back to the end with the keyboard: following again
  await log.evaluate((el) => (el.scrollTop = 0));
  await expect(log.locator('.log-row[data-seq="1"]')).toBeVisible();
  await expect(page.getByRole("button", { name: "Follow" })).toHaveAttribute("aria-pressed", "false");
  await log.focus();
  await page.keyboard.press("End");
  const last = log.locator('.log-row[data-seq="100000"]');
  await expect(last).toBeVisible();
  await expect(last.locator(".log-text")).toHaveText("needle 100000");
  await expect(page.getByRole("button", { name: "Following" })).toHaveAttribute("aria-pressed", "true");
  await shot(page, "job-detail-100k");

  // Timestamps: each line's time, and the choice stays after a reload
  await page.getByRole("button", { name: "Timestamps" }).click();
  await expect(page.getByRole("button", { name: "Timestamps" })).toHaveAttribute("aria-pressed", "true");
  const times = log.locator(".log-row .log-ts");
  await expect(times.first()).toHaveText(/^\d\d:\d\d:\d\d\.\d{3}$/);
  await page.reload();
  await expect(page.getByText(/^Ended: succeeded/)).toBeVisible({ timeout: 60_000 });
  await expect(log.locator(".log-row .log-ts").first()).toHaveText(/^\d\d:\d\d:\d\d\.\d{3}$/);
  await shot(page, "job-log-timestamps");
});
