// The generated client (src/client, never edited by hand) configured for this app: same-origin
// /api, the bearer token on each call, and errors turned into ApiError with the HTTP status.
import { client } from "../client/client.gen";
import { getToken } from "./auth";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(describeDetail(status, detail));
    this.name = "ApiError";
  }
}

/** FastAPI's 422 detail: a list of {loc, msg, type}. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type?: string;
}

export function validationIssues(error: unknown): ValidationIssue[] {
  if (error instanceof ApiError && error.status === 422 && Array.isArray(error.detail)) {
    return error.detail as ValidationIssue[];
  }
  return [];
}

function describeDetail(status: number, detail: unknown): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d: ValidationIssue) => `${d.loc?.slice(1).join(".") || "request"}: ${d.msg}`).join("; ");
  }
  return `request failed (HTTP ${status})`;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

let configured = false;

export function configureApi(baseUrl = ""): void {
  client.setConfig({ baseUrl, throwOnError: true, auth: () => getToken() ?? undefined });
  if (configured) return;
  configured = true;
  client.interceptors.error.use((error, response) => {
    if (!response) return error instanceof Error ? error : new Error(String(error)); // network
    const body = error as { detail?: unknown } | undefined;
    return new ApiError(response.status, body?.detail ?? body);
  });
}

/** Headers for calls made outside the generated client (SSE, downloads). */
export function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}
