// Dates, durations and counts for display.

export function formatDate(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return date.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

export function timeAgo(value: string | null | undefined, now = Date.now()): string {
  if (!value) return "never";
  const seconds = Math.round((now - new Date(value).getTime()) / 1000);
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

export function formatDuration(start?: string | null, end?: string | null, now = Date.now()): string {
  if (!start) return "—";
  const ms = (end ? new Date(end).getTime() : now) - new Date(start).getTime();
  if (ms < 0) return "—";
  const seconds = ms / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${Math.round(seconds % 60)}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

export function jobTitle(job: { name?: string | null; command?: string | null; argv?: string[] | null }): string {
  return job.name || job.command || job.argv?.join(" ") || "";
}

/** A number of seconds, as short as it reads: 850 ms, 1.5s, 42s, 3m 5s, 2h 10m. */
export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 10) return `${Number(seconds.toFixed(1))}s`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    const rest = Math.round(seconds % 60);
    return rest ? `${minutes}m ${rest}s` : `${minutes}m`;
  }
  return minutes % 60 ? `${Math.floor(minutes / 60)}h ${minutes % 60}m` : `${minutes / 60}h`;
}

/** A log line's time of day (local), to the millisecond: 14:03:07.250. */
export function formatLogTime(value: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** The value of an <input type="datetime-local"> (local time, to the minute) for an instant. */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

/** The instant (ISO 8601, UTC) of an <input type="datetime-local"> value; undefined if empty. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value); // no zone in the value: the browser reads it as local time
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** An instant relative to now, either way: "in 5m", "in 2h 10m", "3m ago", "just now". */
export function relativeTime(value: string | null | undefined, now = Date.now()): string {
  if (!value) return "—";
  const seconds = Math.round((new Date(value).getTime() - now) / 1000);
  if (Number.isNaN(seconds)) return "—";
  if (seconds <= 0) return timeAgo(value, now);
  if (seconds < 5) return "in a moment";
  if (seconds < 60) return `in ${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `in ${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `in ${hours}h ${minutes % 60}m` : `in ${hours}h`;
  const days = Math.floor(hours / 24);
  return hours % 24 && days < 7 ? `in ${days}d ${hours % 24}h` : `in ${days}d`;
}

/** An instant as a wall clock of a time zone (a schedule's), e.g. "Wed, Dec 2, 2026, 09:30". */
export function formatDateIn(value: string | null | undefined, timeZone: string): string {
  if (!value) return "—";
  const options: Intl.DateTimeFormatOptions = {
    weekday: "short", year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  };
  try {
    return new Date(value).toLocaleString(undefined, { ...options, timeZone });
  } catch {
    return new Date(value).toLocaleString(undefined, options); // a zone this browser does not know
  }
}

/** The browser's own IANA time zone (the default of a new schedule). */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
