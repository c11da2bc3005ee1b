// Server state: one QueryClient whose caches send every error through one handler. A 401 ends
// the session (back to the login page); other errors are shown where they happened.
import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";
import { ApiError } from "./api";

let unauthorized: () => void = () => {};

/** Called once by main.tsx: what a 401 anywhere (queries, mutations, SSE) does. */
export function setUnauthorizedHandler(handler: () => void): void {
  unauthorized = handler;
}

export function handleApiError(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) unauthorized();
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({ onError: handleApiError }),
    mutationCache: new MutationCache({ onError: handleApiError }),
    defaultOptions: {
      queries: {
        retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
        refetchOnWindowFocus: false,
        staleTime: 1000,
      },
    },
  });
}
