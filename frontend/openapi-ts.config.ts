import { defineConfig } from "@hey-api/openapi-ts";

// `npm run generate-client`: src/client/ from openapi.json (itself from scripts/openapi.mjs).
// Never edit src/client/ by hand; scripts/check-client.mjs fails when it is stale.
export default defineConfig({
  input: process.env.OPENAPI_INPUT ?? "openapi.json",
  output: { path: process.env.OPENAPI_OUTPUT ?? "src/client" },
  plugins: ["@hey-api/client-fetch", "@hey-api/typescript", "@hey-api/sdk"],
});
