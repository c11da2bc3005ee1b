import { defineConfig, devices } from "@playwright/test";

// Specs in tests/ drive the built app (frontend/dist) against the real platform, which
// tests/global-setup.ts starts (and stops) around the run. Debian's chromium, never a
// downloaded browser build.
export default defineConfig({
  testDir: "tests",
  outputDir: "test-output/results",
  globalSetup: "./tests/global-setup.ts",
  fullyParallel: false,
  workers: 1, // a 2-core machine also running the API, the master and two workers
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    baseURL: process.env.E2E_BASE_URL,
    viewport: { width: 1280, height: 800 },
    screenshot: "only-on-failure",
    trace: "off",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    },
  },
  projects: [{ name: "chromium", use: { ...devices["Desktop Chrome"], viewport: { width: 1280, height: 800 } } }],
});
