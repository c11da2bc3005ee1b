// Writes the API's OpenAPI schema to a file without starting a server: imports the FastAPI app
// from the project's virtualenv and calls its .openapi(). Usage: node scripts/openapi.mjs [out]
// (default: frontend/openapi.json). `npm run generate-client` then turns it into src/client/.
// Only change from the served /api/v1/openapi.json: operation ids are the route function names.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(frontend, "..");
const out = resolve(process.argv[2] ?? resolve(frontend, "openapi.json"));
const python = process.env.PYTHON ?? resolve(root, ".venv/bin/python");

const program = `
import json, re, sys
from jobrunner_api.app import create_app
from jobrunner_api.settings import Settings
schema = create_app(Settings(environment="development")).openapi()
# Operation ids from the route function names (list_jobs, not list_jobs_api_v1_jobs_get), so
# the generated SDK reads listJobs(): FastAPI's default id is name + path + "_" + method.
seen = set()
for path, operations in schema["paths"].items():
    for method, operation in operations.items():
        suffix = re.sub(r"\\W", "_", path) + "_" + method
        name = operation["operationId"].removesuffix(suffix)
        if name in seen:
            sys.exit(f"operation id {name} would not be unique")
        seen.add(name)
        operation["operationId"] = name
sys.stdout.write(json.dumps(schema, indent=2, sort_keys=True) + "\\n")
`;
const schema = execFileSync(python, ["-c", program], { cwd: root, encoding: "utf8" });
writeFileSync(out, schema);
console.log(`openapi: wrote ${out}`);
