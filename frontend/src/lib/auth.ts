// The access token of the signed-in user, kept in localStorage so a reload stays signed in.
const KEY = "jobrunner.token";
type Listener = () => void;
const listeners = new Set<Listener>();

export function getToken(): string | null {
  return localStorage.getItem(KEY);
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(KEY, token);
  else localStorage.removeItem(KEY);
  listeners.forEach((listener) => listener());
}

export function isLoggedIn(): boolean {
  return getToken() !== null;
}

export function onTokenChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
