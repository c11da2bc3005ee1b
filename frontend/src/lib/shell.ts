// Command lines to copy into a shell.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** The value as one shell word: as it is when nothing in it is special, else in single quotes. */
export function shellQuote(value: string): string {
  if (SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `NAME=value NAME=value command`, each value quoted for the shell. */
export function withEnv(env: Record<string, string>, command: string): string {
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${shellQuote(value)}`);
  return [...assignments, command].join(" ");
}

/** The lines that start a worker with a worker key: with docker compose, and without. */
export function workerCommands(masterUrl: string, apiKey: string): { compose: string; plain: string } {
  const env = { MASTER_URL: masterUrl.trim() || "http://MASTER-HOST:8080", API_KEY: apiKey };
  return {
    // In a checkout of the repository on the worker host (docker-compose.worker.yaml builds
    // the image there); the variables override whatever .env says.
    compose: withEnv(env, "docker compose -f docker-compose.worker.yaml --profile worker up -d"),
    plain: withEnv(env, "jobrunner-worker"),
  };
}

/** Where the master probably is, as a worker would dial it: this host, port 8080. */
export function guessMasterUrl(location: { protocol: string; hostname: string }): string {
  return `${location.protocol}//${location.hostname}:8080`;
}
