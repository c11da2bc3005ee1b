import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { logIn, shot, submitCommand } from "./helpers";

// Every page at a phone's width, and in the dark theme, for a person to look at.
const PAGES = [
  { path: "/", name: "overview", heading: "Overview", nav: "Overview" },
  { path: "/jobs", name: "jobs", heading: "Jobs", nav: "Jobs" },
  { path: "/jobs/new", name: "new-job", heading: "New job", nav: "New job" },
  { path: "/workers", name: "workers", heading: "Workers", nav: "Workers" },
  { path: "/secrets", name: "secrets", heading: "Secrets", nav: "Secrets" },
  { path: "/credentials", name: "credentials", heading: "Credentials", nav: "Credentials" },
  { path: "/schedules", name: "schedules", heading: "Schedules", nav: "Schedules" },
  { path: "/users", name: "users", heading: "Users", nav: "Users" },
  { path: "/audit", name: "audit", heading: "Audit log", nav: "Audit" },
];
const VERSION = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), "../../VERSION"), "utf8").trim();

test("every page at phone width and in the dark theme", async ({ page }) => {
  await logIn(page);
  // A job with some output of both kinds, in colour
  const jobPath = new URL(
    await submitCommand(page, "printf '\\033[1;34mbuilding\\033[0m\\n'; echo done; echo 'a warning' >&2", {
      name: "e2e screenshots",
    }),
  ).pathname;
  await expect(page.getByText(/Ended: succeeded/)).toBeVisible({ timeout: 30_000 });
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const size of [{ width: 390, height: 844, tag: "phone" }, { width: 1280, height: 800, tag: "desktop" }]) {
      if (scheme === "light" && size.tag === "desktop") continue; // the other specs take those
      await page.setViewportSize(size);
      for (const p of [...PAGES, { path: jobPath, name: "job-detail", heading: "", nav: "Jobs" }]) {
        await page.goto(p.path);
        if (p.heading) await expect(page.getByRole("heading", { name: p.heading, exact: true })).toBeVisible();
        else await expect(page.locator(".log-row").first()).toBeVisible();
        await expect(page.getByLabel("Tenant")).not.toHaveText("…");
        // The platform's version (VERSION) in the footer of every page
        await expect(page.getByRole("contentinfo")).toHaveText(`jobrunner ${VERSION}`);
        // One nav item, the page's own, is marked as the current page
        await expect(page.getByRole("navigation", { name: "Main" }).locator("[aria-current=page]")).toHaveText(p.nav);
        await page.waitForTimeout(300); // the data of polled queries
        await shot(page, `${p.name}-${size.tag}-${scheme}`);
        // Nothing wider than the screen, but what scrolls inside its own box (tables, the log)
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${p.name} at ${size.width}px scrolls sideways`).toBeLessThanOrEqual(0);
      }
    }
  }
});
