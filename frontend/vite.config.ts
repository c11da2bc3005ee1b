import { tanstackRouter } from "@tanstack/router-plugin/vite";
import react from "@vitejs/plugin-react";
import { readFileSync } from "node:fs";
import type { ProxyOptions } from "vite";
import { defineConfig } from "vitest/config";

// The API behind /api: `vite preview` (make dev, the Playwright run) and `vite` proxy it, SSE
// included. JOBRUNNER_API_URL points elsewhere than the dev API on :8000.
const api = process.env.JOBRUNNER_API_URL ?? "http://localhost:8000";
// http-proxy streams responses through as they come, so SSE passes unbuffered.
const proxy: Record<string, ProxyOptions> = { "/api": { target: api, changeOrigin: true } };

// The platform's version, for the footer: the repository's VERSION file (in the image: copied
// beside frontend/ by frontend/Dockerfile).
const version = readFileSync(new URL("../VERSION", import.meta.url), "utf8").trim();

export default defineConfig({
  define: { __JOBRUNNER_VERSION__: JSON.stringify(version) },
  plugins: [
    tanstackRouter({ target: "react", autoCodeSplitting: true }),
    react(),
  ],
  server: { port: 5173, proxy },
  preview: { port: 3000, strictPort: true, proxy },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
