import { useQuery } from '@tanstack/react-query';
import { useTRPC } from './trpc';

/**
 * The session as the browser knows it: the CSRF token every request echoes in
 * `x-mailroom-csrf` (any value works for anonymous loopback access, which has no session),
 * and what to do when the server answers 401 (send the operator to the sign-in page).
 */
let csrfToken: string | null = null;
/** session.me answered at least once (its csrfToken may be null: anonymous access). */
let csrfKnown = false;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
  csrfKnown = true;
}

/** Forgets the token (after sign-out): the next mutation asks session.me again. */
export function forgetCsrfToken(): void {
  csrfToken = null;
  csrfKnown = false;
}

/** Asks session.me for the token once, for a mutation sent before any view loaded the session. */
async function loadCsrfToken(): Promise<void> {
  try {
    const response = await fetch('/trpc/session.me', { credentials: 'same-origin' });
    const body = (await response.json()) as { result?: { data?: { csrfToken?: string | null } } };
    setCsrfToken(body.result?.data?.csrfToken ?? null);
  } catch {
    // The mutation itself will report what is wrong.
  }
}

export function csrfHeaders(): Record<string, string> {
  return { 'x-mailroom-csrf': csrfToken ?? '1' };
}

export const SIGN_IN_PATH = '/signin';

/** Where the sign-in page sends the operator back to (a local path only). */
export function returnToFrom(search: string): string {
  const value = new URLSearchParams(search).get('returnTo');
  return value !== null && /^\/(?![/\\])/.test(value) && !value.startsWith(SIGN_IN_PATH) ? value : '/';
}

/** Redirects to the sign-in page once, remembering where the operator was. */
export function redirectToSignIn(): void {
  if (typeof window === 'undefined' || window.location.pathname === SIGN_IN_PATH) return;
  const here = `${window.location.pathname}${window.location.search}`;
  window.location.assign(`${SIGN_IN_PATH}?returnTo=${encodeURIComponent(here)}`);
}

/** fetch for the tRPC links: a 401 (no or expired session) goes to the sign-in page. */
export const sessionFetch: typeof fetch = async (input, init) => {
  let headers = init?.headers;
  if (init?.method === 'POST' && !csrfKnown) {
    await loadCsrfToken();
    headers = { ...(headers as Record<string, string> | undefined), ...csrfHeaders() };
  }
  const response = await fetch(input, { ...init, ...(headers !== undefined ? { headers } : {}), credentials: 'same-origin' });
  if (response.status === 401) redirectToSignIn();
  return response;
};

export function isUnauthorized(error: unknown): boolean {
  return (error as { data?: { code?: string } } | null)?.data?.code === 'UNAUTHORIZED';
}

/** Who is signed in and the role per connection (`session.me`); keeps the CSRF token current. */
export function useSession() {
  const trpc = useTRPC();
  const query = useQuery(trpc.session.me.queryOptions(undefined, { staleTime: 60_000, retry: false }));
  if (query.data) setCsrfToken(query.data.csrfToken);
  return query;
}

export type Role = 'viewer' | 'operator' | 'admin';
const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** Whether `role` (a connection's `role` from the server) allows what needs `needed`; an unknown role (older server) is not held against the operator. */
export function roleAllows(role: Role | null | undefined, needed: Role): boolean {
  return role === null || role === undefined || RANK[role] >= RANK[needed];
}
