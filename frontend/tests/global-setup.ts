import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(frontend, "..");
const START_TIMEOUT_MS = 180_000;

interface PlatformInfo {
  baseURL: string;
  apiURL: string;
  masterURL: string;
  tenant: string;
  username: string;
  password: string;
}

/**
 * Starts the platform (tests/e2e_platform.py: infra, API, master, two workers, vite preview)
 * and returns the teardown that stops it. The specs read E2E_* from the environment; with
 * E2E_BASE_URL, E2E_API_URL, E2E_TENANT, E2E_USERNAME and E2E_PASSWORD set, nothing starts
 * (E2E_MASTER_URL too, for the spec that starts a worker from the Credentials page).
 */
export default async function globalSetup(): Promise<(() => Promise<void>) | undefined> {
  // A platform that already runs (E2E_BASE_URL and the rest set by hand): use it as it is.
  if (process.env.E2E_BASE_URL && process.env.E2E_API_URL) return undefined;
  const python = process.env.PYTHON ?? resolve(root, ".venv/bin/python");
  const child = spawn(python, [resolve(frontend, "tests/e2e_platform.py")], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));

  const info = await new Promise<PlatformInfo>((done, fail) => {
    const timer = setTimeout(() => fail(new Error("the e2e platform did not start in time")), START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      if (!line.startsWith("{")) return;
      clearTimeout(timer);
      done(JSON.parse(line) as PlatformInfo);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`the e2e platform exited with code ${code} before it was ready`));
    });
  }).catch(async (error: unknown) => {
    child.kill("SIGTERM");
    await exited;
    throw error;
  });

  process.env.E2E_BASE_URL = info.baseURL;
  process.env.E2E_API_URL = info.apiURL;
  process.env.E2E_MASTER_URL = info.masterURL;
  process.env.E2E_TENANT = info.tenant;
  process.env.E2E_USERNAME = info.username;
  process.env.E2E_PASSWORD = info.password;

  return async () => {
    child.stdin!.end();
    child.kill("SIGTERM");
    const timeout = setTimeout(() => child.kill("SIGKILL"), 60_000);
    await exited;
    clearTimeout(timeout);
  };
}
