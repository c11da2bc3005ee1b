// Server-Sent Events over fetch: EventSource cannot send the Authorization header the API
// needs. `parseSse` reads one response body; `followSse` reconnects with Last-Event-ID until
// the handler says the stream is over or the signal aborts.
import { ApiError } from "./api";

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Yields the events of an SSE body (the text/event-stream format of the HTML standard). */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let start = 0;
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer.slice(start));
        if (!match) break;
        const end = start + match.index;
        // A lone \r at the very end may be the first half of \r\n: wait for more input.
        if (match[0] === "\r" && end + 1 === buffer.length) break;
        const line = buffer.slice(start, end);
        start = end + match[0].length;
        if (line === "") {
          if (data.length) yield { event: event || "message", data: data.join("\n"), id };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue; // comment (keep-alive ping)
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value2 = colon < 0 ? "" : line.slice(colon + 1);
        if (value2.startsWith(" ")) value2 = value2.slice(1);
        if (field === "event") event = value2;
        else if (field === "data") data.push(value2);
        else if (field === "id" && !value2.includes("\0")) id = value2;
      }
      buffer = buffer.slice(start);
    }
  } finally {
    reader.releaseLock();
  }
}

export interface FollowOptions {
  url: string;
  headers?: () => Record<string, string>;
  signal: AbortSignal;
  /** Return "stop" when the stream is complete (e.g. the `end` event). */
  onEvent: (event: SseEvent) => "stop" | void;
  onError?: (error: unknown) => void;
  retryMs?: number;
  fetchImpl?: typeof fetch;
}

/** Follows an SSE endpoint across disconnects, resuming after the last event id seen. */
export async function followSse(options: FollowOptions): Promise<void> {
  const { url, signal, onEvent, onError, retryMs = 1000 } = options;
  const fetchImpl = options.fetchImpl ?? globalThis.fetch.bind(globalThis);
  let lastEventId: string | undefined;
  while (!signal.aborted) {
    try {
      const headers: Record<string, string> = { Accept: "text/event-stream", ...options.headers?.() };
      if (lastEventId !== undefined) headers["Last-Event-ID"] = lastEventId;
      const response = await fetchImpl(url, { headers, signal, cache: "no-store" });
      if (!response.ok || !response.body) {
        const body = await response.json().catch(() => ({}));
        const error = new ApiError(response.status, body?.detail);
        // Only a server-side hiccup is worth retrying; 401/403/404 will not change.
        if (response.status < 500) throw error;
        onError?.(error);
      } else {
        for await (const event of parseSse(response.body)) {
          if (event.id !== undefined) lastEventId = event.id;
          if (onEvent(event) === "stop") return;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status < 500) {
        onError?.(error);
        return;
      }
      onError?.(error);
    }
    // The stream ended without its final event (proxy timeout, API restart): resume.
    await sleep(retryMs, signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
