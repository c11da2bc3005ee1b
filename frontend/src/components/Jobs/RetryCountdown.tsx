// "retry 2 of 3 in 4 s": a job's next attempt waiting for its backoff (the API's
// `attempts[].not_before`), counted down each second until it is due.
import { useEffect, useState } from "react";
import type { JobOut } from "../../client";

export function retryText(job: JobOut, now: number): string | null {
  const current = job.attempts[job.attempt - 1];
  if (job.status !== "queued" || !current?.not_before) return null;
  const seconds = Math.ceil((Date.parse(current.not_before) - now) / 1000);
  const retry = job.attempts.filter((a) => a.number > 1 && a.error !== "worker_lost").length;
  const of = `retry ${retry} of ${job.max_retries}`;
  return seconds > 0 ? `${of} in ${seconds} s` : `${of}: due now`;
}

export function RetryCountdown({ job }: { job: JobOut }) {
  const [now, setNow] = useState(() => Date.now());
  const text = retryText(job, now);
  useEffect(() => {
    if (!text) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [text]);
  return text ? <span className="retry-countdown muted">{text}</span> : null;
}
