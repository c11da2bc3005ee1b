import { expect, test } from "@playwright/test";
import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { apiPost, env, logIn, shot, unique } from "./helpers";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

test("an API key is shown once when created, listed, then revoked", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await logIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Credentials" }).click();
  await page.getByLabel("Name").fill("e2e-submitter");
  await page.getByLabel("Kind").selectOption("submit");
  await page.getByRole("button", { name: "Create key" }).click();

  // The key is shown once, and copies
  const key = page.getByRole("textbox", { name: "New API key" });
  await expect(key).toHaveValue(/.{20,}/);
  const secret = await key.inputValue();
  await page.getByRole("button", { name: "Copy" }).click();
  await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  const row = page.getByRole("row", { name: "Key e2e-submitter" });
  await expect(row).toContainText("submit");
  await expect(row).toContainText("never");
  await expect(row).not.toContainText(secret);
  await shot(page, "credentials");

  // Revoking asks once more, then the key is gone
  await page.getByRole("button", { name: "Done" }).click();
  await expect(key).toHaveCount(0);
  await row.getByRole("button", { name: "Revoke e2e-submitter" }).click();
  await row.getByRole("button", { name: "Yes, revoke" }).click();
  await expect(row).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("row", { name: "Key e2e-worker" })).toBeVisible();
  await expect(page.getByRole("row", { name: "Key e2e-submitter" })).toHaveCount(0);
});

test("a new worker key comes with the lines that start a worker, and the plain one works", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await logIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Credentials" }).click();
  await page.getByLabel("Name").fill("e2e-from-page");
  await page.getByLabel("Kind").selectOption("worker");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = await page.getByRole("textbox", { name: "New API key" }).inputValue();

  // The lines name this dashboard's host as the master until told otherwise
  const lines = page.getByRole("region", { name: "Start a worker with this key" });
  const master = lines.getByLabel("Master URL, as the worker host reaches it");
  await expect(master).toHaveValue(`http://127.0.0.1:8080`);
  await master.fill(env.masterURL);
  const compose = lines.locator("#worker-compose-command");
  const plain = lines.locator("#worker-plain-command");
  await expect(compose).toHaveText(
    `MASTER_URL=${env.masterURL} API_KEY=${key} docker compose -f docker-compose.worker.yaml --profile worker up -d`,
  );
  await expect(plain).toHaveText(`MASTER_URL=${env.masterURL} API_KEY=${key} jobrunner-worker`);
  await shot(page, "credentials-worker-key");

  // Each copies exactly what it shows
  await lines.getByRole("button", { name: "Copy the docker compose command" }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await compose.textContent());
  await lines.getByRole("button", { name: "Copy the jobrunner-worker command" }).click();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe(await plain.textContent());

  // And the copied line, run in a shell, starts a worker that comes online on the Workers page
  const worker = spawn("bash", ["-c", copied], {
    cwd: ROOT,
    detached: true,
    stdio: "ignore",
    env: { ...process.env, PATH: `${ROOT}/.venv/bin:${process.env.PATH}`, WORKER_NAME: "e2e-from-page", HEARTBEAT_INTERVAL: "1" },
  });
  try {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Workers" }).click();
    await expect(page.getByRole("row", { name: "Worker e2e-from-page" })).toContainText("online", { timeout: 30_000 });
  } finally {
    process.kill(-worker.pid!, "SIGTERM");
  }
  // Stopped, it goes offline, and is removed so that the other specs see their two workers
  const row = page.getByRole("row", { name: "Worker e2e-from-page" });
  await expect(row).toContainText("offline", { timeout: 30_000 });
  await row.getByRole("button", { name: "Remove e2e-from-page" }).click();
  await row.getByRole("button", { name: "Yes, remove" }).click();
  await expect(row).toHaveCount(0);
});

test("a key can be made to expire: the list says when, and then that it has expired", async ({ page }) => {
  await logIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Credentials" }).click();
  // In two days and an hour, local time, from the form's date-time field
  const name = unique("e2e-expiring");
  const when = new Date(Date.now() + (49 * 60 + 1) * 60_000);
  const local = new Date(when.getTime() - when.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Kind").selectOption("submit");
  await page.getByLabel("Expires (optional)").fill(local);
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByRole("textbox", { name: "New API key" })).toHaveValue(/.{20,}/);
  const row = page.getByRole("row", { name: `Key ${name}` });
  await expect(row).toContainText("expires in 2d 1h");
  // A key without one never expires
  await expect(page.getByRole("row", { name: "Key e2e-worker" })).toContainText("never expires");

  // One that ends in two seconds (made through the API: the form takes minutes) is then expired
  const soon = unique("e2e-expired");
  await apiPost("/api-keys", { name: soon, kind: "submit", expires_at: new Date(Date.now() + 2000).toISOString() });
  await page.waitForTimeout(2500);
  await page.reload();
  await expect(page.getByRole("row", { name: `Key ${soon}` })).toContainText(/expired (just now|\d+s ago)/);
  await shot(page, "credentials-expiry");
});
