// Fails when the committed openapi.json or the generated client in src/client/ no longer matches
// what the API's code produces. Regenerates both into a temporary folder and compares.
// Usage: node scripts/check-client.mjs   (fix with: npm run generate-client, then commit)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const work = mkdtempSync(join(tmpdir(), "jobrunner-client-"));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

try {
  const schema = join(work, "openapi.json");
  const client = join(work, "client");
  execFileSync("node", [join(frontend, "scripts/openapi.mjs"), schema], { stdio: "ignore" });
  // Same relative input name as `npm run generate-client`: openapi-ts writes it into the types.
  execFileSync(join(frontend, "node_modules/.bin/openapi-ts"), ["-f", join(frontend, "openapi-ts.config.ts")], {
    cwd: work,
    env: { ...process.env, OPENAPI_INPUT: "openapi.json", OPENAPI_OUTPUT: client },
    stdio: "ignore",
  });
  const stale = [];
  if (readFileSync(schema, "utf8") !== readFileSync(join(frontend, "openapi.json"), "utf8")) {
    stale.push("openapi.json");
  }
  const committed = join(frontend, "src/client");
  const expected = new Set(files(client).map((f) => relative(client, f)));
  const actual = new Set(files(committed).map((f) => relative(committed, f)));
  for (const name of new Set([...expected, ...actual])) {
    if (!expected.has(name) || !actual.has(name) ||
        readFileSync(join(client, name), "utf8") !== readFileSync(join(committed, name), "utf8")) {
      stale.push(`src/client/${name}`);
    }
  }
  if (stale.length) {
    console.error(`check-client: stale generated API client (run \`npm run generate-client\`):\n  ${stale.join("\n  ")}`);
    process.exit(1);
  }
  console.log("check-client: src/client matches the API's OpenAPI schema");
} finally {
  rmSync(work, { recursive: true, force: true });
}
