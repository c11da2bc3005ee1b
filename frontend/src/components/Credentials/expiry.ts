// How the keys table says when a key stops working.
import type { ApiKeyOut } from "../../client";
import { formatDate, relativeTime } from "../../lib/format";

export function describeExpiry(key: Pick<ApiKeyOut, "expires_at" | "expired">, now = Date.now()): { text: string; title?: string; expired: boolean } {
  if (key.expired || (key.expires_at && Date.parse(key.expires_at) <= now)) {
    return { text: key.expires_at ? `expired ${relativeTime(key.expires_at, now)}` : "expired", title: formatDate(key.expires_at), expired: true };
  }
  if (!key.expires_at) return { text: "never expires", expired: false };
  return { text: `expires ${relativeTime(key.expires_at, now)}`, title: formatDate(key.expires_at), expired: false };
}

/** The smallest value of the expiry field: a minute from now (the API refuses a past instant). */
export function soonestExpiry(now = Date.now()): string {
  const local = new Date(now + 60_000 - new Date(now).getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}
