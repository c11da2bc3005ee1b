import { authHeaders, ApiError } from "../../lib/api";

/** Saves an attempt's whole log: fetched with the token (a plain link could not send it). */
export async function downloadLog(jobId: string, attempt: number): Promise<void> {
  const url = `/api/v1/jobs/${encodeURIComponent(jobId)}/logs/download?attempt=${attempt}`;
  const response = await fetch(url, { headers: authHeaders() });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, body?.detail);
  }
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = href;
  link.download = `job-${jobId}-attempt-${attempt}.log`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
