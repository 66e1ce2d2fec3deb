import { TRPCClientError } from '@trpc/client';
import { hashPassword } from '../src/auth/passwords';
import { appRouter, type AppRouter } from '../src/router';
import type { AccessRule } from '../src/security/guard';

export interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
}

/** The users of the safety tests: one per role, plus one scoped per connection. */
export const PASSWORD = 'correct horse battery staple';

export async function usersConfig() {
  const passwordHash = await hashPassword(PASSWORD, { N: 2 ** 14 });
  return [
    { username: 'vera', passwordHash, role: 'viewer' as const },
    { username: 'otto', passwordHash, role: 'operator' as const },
    { username: 'ada', passwordHash, role: 'admin' as const },
    // Operator on memory, viewer on other connections, nothing on "secret".
    { username: 'sam', passwordHash, roles: { '*': 'viewer' as const, memory: 'operator' as const, secret: 'none' as const } },
  ];
}

/** Signs in over HTTP as the web app does; returns the cookie to send back and the CSRF token. */
export async function signIn(url: string, username: string, password = PASSWORD): Promise<Session> {
  const response = await fetch(`${url}/trpc/session.signIn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mailroom-csrf': '1' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await response.json()) as { result?: { data: { csrfToken: string } }; error?: { message: string } };
  if (!response.ok || !body.result) throw new Error(`sign-in of ${username} failed: ${response.status} ${body.error?.message}`);
  const setCookie = response.headers.getSetCookie()[0] ?? '';
  return { cookie: setCookie.split(';')[0]!, csrf: body.result.data.csrfToken, setCookie };
}

/** One raw tRPC call over HTTP (no batching), for status codes and headers. */
export async function rawCall(
  url: string,
  path: string,
  input: unknown,
  options: { mutation?: boolean; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: { result?: { data: unknown }; error?: { message: string; data: { code: string; httpStatus: number } } }; headers: Headers }> {
  const init: RequestInit = options.mutation
    ? { method: 'POST', headers: { 'content-type': 'application/json', ...options.headers }, body: JSON.stringify(input) }
    : { method: 'GET', headers: { ...options.headers } };
  const target = options.mutation || input === undefined ? `${url}/trpc/${path}` : `${url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`;
  const response = await fetch(target, init);
  const text = await response.text();
  let body: never;
  try {
    body = JSON.parse(text) as never;
  } catch {
    body = { error: { message: text, data: { code: 'UNPARSEABLE', httpStatus: response.status } } } as never;
  }
  return { status: response.status, body, headers: response.headers };
}

/** The tRPC error code of a rejected call (or "OK"). */
export async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    if (error instanceof TRPCClientError) return (error as TRPCClientError<AppRouter>).data?.code ?? `HTTP:${error.message}`;
    throw error;
  }
}

interface ProcedureDef {
  _def: { type: 'query' | 'mutation' | 'subscription'; meta?: { access?: AccessRule }; inputs: unknown[] };
}

/** Every procedure of the router with its type, access rule and input schemas. */
export function procedures(): [string, ProcedureDef][] {
  return Object.entries((appRouter as unknown as { _def: { procedures: Record<string, ProcedureDef> } })._def.procedures);
}

