import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from '@mailroom/server/router';
import { serverUrl } from './env';

/** The server's own API, for the embedded broker (which has no client outside the server) and for setup checks. */
export function serverApi() {
  return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${serverUrl()}/trpc` })] });
}

export type ServerApi = ReturnType<typeof serverApi>;

export const fromBase64 = (text: string): Buffer => Buffer.from(text, 'base64');
