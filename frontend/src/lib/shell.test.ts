import { describe, expect, it } from "vitest";
import { guessMasterUrl, shellQuote, workerCommands } from "./shell";

describe("shellQuote", () => {
  it("leaves plain words alone and single-quotes the rest", () => {
    expect(shellQuote("jrw_AbC-12.x")).toBe("jrw_AbC-12.x");
    expect(shellQuote("http://host:8080,http://b:8080")).toBe("http://host:8080,http://b:8080");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's $HOME")).toBe("'it'\\''s $HOME'");
    expect(shellQuote("")).toBe("''");
  });
});

describe("workerCommands", () => {
  it("starts a compose worker and a plain one with the key", () => {
    const { compose, plain } = workerCommands(" http://platform:8080 ", "jrw_key");
    expect(compose).toBe(
      "MASTER_URL=http://platform:8080 API_KEY=jrw_key docker compose -f docker-compose.worker.yaml --profile worker up -d",
    );
    expect(plain).toBe("MASTER_URL=http://platform:8080 API_KEY=jrw_key jobrunner-worker");
    expect(workerCommands("", "k").plain).toContain("MASTER_URL=http://MASTER-HOST:8080 ");
  });

  it("guesses the master on this host's port 8080", () => {
    expect(guessMasterUrl({ protocol: "https:", hostname: "jobs.example.com" })).toBe("https://jobs.example.com:8080");
  });
});
