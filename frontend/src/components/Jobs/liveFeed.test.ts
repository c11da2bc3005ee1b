import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it, vi } from "vitest";
import type { JobOut, JobPage } from "../../client";
import { applyJobEvent, LiveFeed, newer, REFETCH_THROTTLE_MS } from "./liveFeed";

function job(id: string, status: JobOut["status"], updated_at: string): JobOut {
  return { id, status, updated_at } as JobOut;
}

describe("applyJobEvent", () => {
  it("updates the job and its rows in cached pages, never back to an older state", () => {
    const client = new QueryClient();
    client.setQueryData(["job", "a"], job("a", "queued", "2026-01-01T00:00:01Z"));
    client.setQueryData<JobPage>(["jobs", { status: undefined }], {
      items: [job("b", "queued", "2026-01-01T00:00:00Z"), job("a", "queued", "2026-01-01T00:00:01Z")],
      next_cursor: null,
    });
    client.setQueryData(["jobs", "not-a-page"], 7);

    applyJobEvent(client, job("a", "running", "2026-01-01T00:00:02.5Z"));
    applyJobEvent(client, job("a", "queued", "2026-01-01T00:00:02Z")); // late and stale

    expect(client.getQueryData<JobOut>(["job", "a"])?.status).toBe("running");
    const page = client.getQueryData<JobPage>(["jobs", { status: undefined }])!;
    expect(page.items.map((j) => `${j.id}:${j.status}`)).toEqual(["b:queued", "a:running"]);
    expect(client.getQueryData(["jobs", "not-a-page"])).toBe(7);
  });
});

describe("newer", () => {
  it("orders copies of a job by version, whatever their clocks say", () => {
    const at = (version: number, updated_at: string) => ({ ...job("a", "running", updated_at), version }) as JobOut;
    // Two API processes stamped these; the second change carries the earlier time.
    expect(newer(at(3, "2026-01-01T00:00:01Z"), at(2, "2026-01-01T00:00:02Z"))).toBe(true);
    expect(newer(at(2, "2026-01-01T00:00:02Z"), at(3, "2026-01-01T00:00:01Z"))).toBe(false);
    // Without versions (an older API), the time decides.
    expect(newer(job("a", "running", "2026-01-01T00:00:02Z"), job("a", "queued", "2026-01-01T00:00:01Z"))).toBe(true);
  });
});

function stream(...chunks: string[]): Response {
  const encoder = new TextEncoder();
  let pull = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        // Hands out one chunk per read, then stays open like a live stream.
        if (pull < chunks.length) controller.enqueue(encoder.encode(chunks[pull++]));
        else return new Promise(() => {});
      },
    }),
    { headers: { "Content-Type": "text/event-stream" } },
  );
}

describe("LiveFeed", () => {
  it("goes live on `ready`, writes job events into the cache and refetches lists once per burst", async () => {
    vi.useFakeTimers();
    try {
      const client = new QueryClient();
      const invalidate = vi.spyOn(client, "invalidateQueries");
      const events = [1, 2, 3].map((n) => `event: job\ndata: ${JSON.stringify(job("a", "running", `2026-01-01T00:00:0${n}Z`))}\n\n`);
      const fetchImpl = vi.fn(async () => stream("event: ready\ndata: {}\n\n", ...events)) as unknown as typeof fetch;
      const feed = new LiveFeed(client, fetchImpl);
      const seen: boolean[] = [];
      feed.subscribe(() => seen.push(feed.connected));

      const release = feed.acquire();
      const releaseToo = feed.acquire(); // a second user shares the stream
      await vi.waitFor(() => expect(client.getQueryData<JobOut>(["job", "a"])?.updated_at).toBe("2026-01-01T00:00:03Z"));
      expect(fetchImpl).toHaveBeenCalledTimes(1);
      expect(seen).toEqual([true]);

      await vi.advanceTimersByTimeAsync(REFETCH_THROTTLE_MS);
      const keys = invalidate.mock.calls.map(([filters]) => JSON.stringify(filters?.queryKey));
      expect(keys.filter((k) => k === '["jobs"]')).toHaveLength(1);
      expect(keys).toContain('["job"]'); // everything is refetched once when the stream begins

      release();
      expect(feed.connected).toBe(true);
      releaseToo();
      expect(feed.connected).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("is not live while the API answers errors (the queries poll meanwhile)", async () => {
    const client = new QueryClient();
    let calls = 0;
    const fetchImpl = (async () => {
      calls++;
      return new Response(JSON.stringify({ detail: "down" }), { status: 503 });
    }) as typeof fetch;
    const feed = new LiveFeed(client, fetchImpl, 5);
    const release = feed.acquire();
    await vi.waitFor(() => expect(calls).toBeGreaterThan(2)); // it keeps trying
    expect(feed.connected).toBe(false);
    release();
  });
});
