import { describe, expect, it } from "vitest";
import { followSse, parseSse, type SseEvent } from "./sse";

function body(...chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      chunks.forEach((c) => controller.enqueue(encoder.encode(c)));
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of parseSse(stream)) events.push(event);
  return events;
}

describe("parseSse", () => {
  it("reads events split anywhere across chunks, with ids, comments and CRLF", async () => {
    const events = await collect(
      body(": ping\r\n\r\nevent: log\r\nid: 3\r\nda", 'ta: {"lines": []}\r\n\r', "\ndata: a\ndata: b\n\nevent: end\ndata: {}\n\n"),
    );
    expect(events).toEqual([
      { event: "log", id: "3", data: '{"lines": []}' },
      { event: "message", id: "3", data: "a\nb" },
      { event: "end", id: "3", data: "{}" },
    ]);
  });
});

describe("followSse", () => {
  it("reconnects with Last-Event-ID until the handler stops", async () => {
    const requests: Headers[] = [];
    const responses = [
      "event: log\nid: 5\ndata: x\n\n", // the connection drops after this
      "event: log\nid: 6\ndata: y\n\nevent: end\ndata: {}\n\n",
    ];
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      requests.push(new Headers(init.headers));
      return new Response(body(responses.shift()!), { headers: { "Content-Type": "text/event-stream" } });
    }) as typeof fetch;
    const seen: string[] = [];
    await followSse({
      url: "/stream",
      headers: () => ({ Authorization: "Bearer t" }),
      signal: new AbortController().signal,
      retryMs: 1,
      fetchImpl,
      onEvent: (e) => {
        seen.push(`${e.event}:${e.data}`);
        return e.event === "end" ? "stop" : undefined;
      },
    });
    expect(seen).toEqual(["log:x", "log:y", "end:{}"]);
    expect(requests[0].get("Authorization")).toBe("Bearer t");
    expect(requests[0].get("Last-Event-ID")).toBeNull();
    expect(requests[1].get("Last-Event-ID")).toBe("5");
  });

  it("gives up on a 401 and reports it", async () => {
    const errors: unknown[] = [];
    const fetchImpl = (async () => new Response(JSON.stringify({ detail: "expired" }), { status: 401 })) as typeof fetch;
    await followSse({ url: "/s", signal: new AbortController().signal, fetchImpl, onEvent: () => undefined, onError: (e) => errors.push(e) });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 401, message: "expired" });
  });
});
