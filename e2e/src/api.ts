import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from '@mailroom/server/router';
import { serverUrl } from './env';

/** The server's own API, for the embedded broker (which has no client outside the server) and for setup checks. */
export function serverApi() {
  // Mutations (and destructive peeks) need the CSRF header; an anonymous loopback caller has no
  // session token to echo, so any non-empty value passes.
  return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${serverUrl()}/trpc`, headers: { 'x-mailroom-csrf': 'e2e' } })] });
}

export type ServerApi = ReturnType<typeof serverApi>;

export const fromBase64 = (text: string): Buffer => Buffer.from(text, 'base64');
