import { expect, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const SHOTS = resolve(dirname(fileURLToPath(import.meta.url)), "../test-output/screenshots");
mkdirSync(SHOTS, { recursive: true });

export const env = {
  get tenant() { return process.env.E2E_TENANT!; },
  get username() { return process.env.E2E_USERNAME!; },
  get password() { return process.env.E2E_PASSWORD!; },
  get apiURL() { return process.env.E2E_API_URL!; },
  get masterURL() { return process.env.E2E_MASTER_URL!; },
};

/** Signs in through the login page, as a person would. */
export async function logIn(page: Page, as = { username: env.username, password: env.password }): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Username").fill(as.username);
  await page.getByLabel("Password").fill(as.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
}

/** A screenshot of the page for a person to look at: test-output/screenshots/NAME.png. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky header at the top of the picture
  await page.screenshot({ path: resolve(SHOTS, `${name}.png`), fullPage: true });
}

/** Submits a shell command from the New job form; returns the job page's URL. */
export async function submitCommand(
  page: Page,
  command: string,
  extra: { name?: string; labels?: string; open?: boolean } = {},
): Promise<string> {
  // open: false when the form is already open (and partly filled in)
  if (extra.open !== false) await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "New job" }).click();
  await page.getByLabel("Command", { exact: true }).fill(command);
  if (extra.name) await page.getByLabel("Name").fill(extra.name);
  if (extra.labels) await page.getByLabel("Labels").fill(extra.labels);
  await page.getByRole("button", { name: "Submit job" }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f]{24}$/);
  return page.url();
}

/** The API, as the e2e tenant (for setting the stage faster than through the UI). */
export async function apiToken(): Promise<string> {
  const response = await fetch(`${env.apiURL}/api/v1/auth/token`, {
    method: "POST",
    body: new URLSearchParams({ username: env.username, password: env.password }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Submits a job straight to the API (as another client would, while the page looks on). */
export async function apiSubmit(body: Record<string, unknown>): Promise<{ id: string }> {
  const response = await fetch(`${env.apiURL}/api/v1/jobs`, {
    method: "POST",
    headers: { Authorization: `Bearer ${await apiToken()}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string };
}

/** A POST of JSON to the API as the e2e tenant, its JSON body. */
export async function apiPost<T = unknown>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${env.apiURL}/api/v1${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${await apiToken()}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.ok, `POST ${path}: ${response.status}`).toBe(true);
  return (await response.json()) as T;
}

/** A GET of the API as the e2e tenant, its JSON body. */
export async function apiGet<T = unknown>(path: string): Promise<T> {
  const response = await fetch(`${env.apiURL}/api/v1${path}`, { headers: { Authorization: `Bearer ${await apiToken()}` } });
  expect(response.status, `GET ${path}`).toBe(200);
  return (await response.json()) as T;
}

const FINAL = ["succeeded", "failed", "timed_out", "cancelled"];

/** Waits for a job to end; returns it. */
export async function waitFinal(id: string, timeoutMs = 30_000): Promise<{ id: string; status: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await apiGet<{ id: string; status: string }>(`/jobs/${id}`);
    if (FINAL.includes(job.status)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

/** Any request to the API (as the e2e tenant's admin unless a token is given): the response. */
export async function api(method: string, path: string, body?: unknown, token?: string): Promise<Response> {
  return fetch(`${env.apiURL}/api/v1${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token ?? (await apiToken())}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** A name no other run or spec uses. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}
