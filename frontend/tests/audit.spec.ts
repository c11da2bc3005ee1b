import { expect, test } from "@playwright/test";
import { api, apiPost, apiToken, env, logIn, shot, unique } from "./helpers";

test("an admin action shows up in the audit log, which filters by action and actor and pages", async ({ page }) => {
  // Given more than a page of entries (55 secrets set, each its own target: entries of the
  // same second would otherwise read alike), then a key made through the API
  const token = await apiToken();
  const secrets = Array.from({ length: 55 }, (_, i) => `E2E_AUDIT_PAGING_${i}`);
  for (const secret of secrets) expect((await api("PUT", `/secrets/${secret}`, { value: "v" }, token)).ok).toBe(true);
  const name = unique("e2e-audited");
  await apiPost("/api-keys", { name, kind: "submit" });

  await logIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
  await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
  const entry = page.getByRole("row").filter({ hasText: name });
  await expect(entry).toContainText("api_key.create");
  await expect(entry).toContainText(env.username);
  await expect(entry.getByRole("cell").nth(4)).toHaveText(/\d|:/); // the address it came from
  await shot(page, "audit");

  // By action: only key creations
  await page.getByLabel("Action").selectOption("api_key.create");
  await expect(entry).toBeVisible();
  const actions = page.getByRole("row").locator("td:nth-child(3)");
  // Polled: the newest entry is a key creation in the unfiltered list too, shown until the
  // filtered page replaces it
  await expect.poll(async () => [...new Set(await actions.allTextContents())]).toEqual(["api_key.create"]);
  // By actor: nobody of that name did anything
  await page.getByLabel("Actor").fill("nobody-at-all");
  await expect(page.getByText("No entry matches these filters.")).toBeVisible();

  // The admin's secret.set entries: more than a page, paged by the cursor
  await page.getByLabel("Action").selectOption("secret.set");
  await page.getByLabel("Actor").fill(env.username);
  await expect(page.getByRole("row")).toHaveCount(51); // the header and 50
  // The filters are in the URL: a reload (or the link, shared) shows the same view
  const inUrl = (key: string) => new URL(page.url()).searchParams.get(key);
  await expect.poll(() => [inUrl("action"), inUrl("actor")]).toEqual(["secret.set", env.username]);
  await page.reload();
  await expect(page.getByLabel("Action")).toHaveValue("secret.set");
  await expect(page.getByLabel("Actor")).toHaveValue(env.username);
  await expect(page.getByRole("row")).toHaveCount(51);
  await expect(page.getByText("Page 1")).toBeVisible();
  const firstOfPage1 = await page.getByRole("row").nth(1).textContent();
  await page.getByRole("button", { name: "Older →" }).click();
  await expect(page.getByText("Page 2")).toBeVisible();
  await expect(page.getByRole("row").nth(1)).not.toHaveText(firstOfPage1!);
  await expect(page.getByRole("row").nth(1)).toContainText("E2E_AUDIT_PAGING");
  await page.getByRole("button", { name: "← Newer" }).click();
  await expect(page.getByRole("row").nth(1)).toHaveText(firstOfPage1!);
  // Clearing the filters clears them from the URL too
  await page.getByRole("button", { name: "Clear filters" }).click();
  await expect.poll(() => [inUrl("action"), inUrl("actor")]).toEqual([null, null]);
  await expect(page.getByLabel("Actor")).toHaveValue("");
  await expect(entry).toBeVisible(); // the key creation, unfiltered again
  for (const secret of secrets) await api("DELETE", `/secrets/${secret}`, undefined, token);
});
