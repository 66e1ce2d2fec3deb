import { createTRPCClient } from '@trpc/client';
import { initTRPC } from '@trpc/server';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from './session';
import { browserLinks } from './trpc';

const t = initTRPC.create();
let releaseSlow: () => void = () => undefined;
const slowGate = () => new Promise<void>((resolve) => (releaseSlow = resolve));
const router = t.router({
  list: t.procedure.input((v: unknown) => v as { connectionId: string }).query(async ({ input }) => {
    if (input.connectionId === 'slow') await slowGate();
    return { connectionId: input.connectionId };
  }),
  publish: t.procedure.mutation(() => 'ok'),
});

/** Serves the test router through tRPC's own request handler, recording what the links sent. */
function serve() {
  const requests: { url: string; method: string; csrf: string | null; accept: string | null }[] = [];
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(new URL(String(input), 'http://mailroom.test'), init);
    requests.push({ url: req.url, method: req.method, csrf: req.headers.get('x-mailroom-csrf'), accept: req.headers.get('trpc-accept') });
    return fetchRequestHandler({ endpoint: '/trpc', req, router });
  });
  return requests;
}

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

describe('browser links', () => {
  it('streams each query of a batch back as soon as it is ready (a slow one does not hold back the rest)', { timeout: 5_000 }, async () => {
    const requests = serve();
    setCsrfToken('tok-1');
    const client = createTRPCClient<typeof router>({ links: browserLinks('http://mailroom.test/trpc') as never });
    const order: string[] = [];
    const slow = client.list.query({ connectionId: 'slow' }).then((r) => order.push(r.connectionId));
    const fast = client.list.query({ connectionId: 'memory' }).then((r) => order.push(r.connectionId));
    await fast;
    expect(order).toEqual(['memory']);
    releaseSlow();
    await slow;
    expect(order).toEqual(['memory', 'slow']);
    // Still one request for both, carrying the CSRF header, answered as a stream.
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: 'GET', csrf: 'tok-1', accept: 'application/jsonl' });
    expect(requests[0]!.url).toContain('/trpc/list,list?batch=1');
  });

  it('sends mutations with the CSRF header', async () => {
    const requests = serve();
    setCsrfToken('tok-2');
    const client = createTRPCClient<typeof router>({ links: browserLinks('http://mailroom.test/trpc') as never });
    expect(await client.publish.mutate()).toBe('ok');
    expect(requests).toEqual([{ url: 'http://mailroom.test/trpc/publish?batch=1', method: 'POST', csrf: 'tok-2', accept: null }]);
  });
});
