import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsumerStatsReport } from '@mailroom/core';
import { serve, tempDir, testApp, type Served } from './helpers';
import { signIn, usersConfig } from './safety-helpers';

const TOKEN = 'reporter-token-of-the-billing-workers';
const report = (overrides: Partial<ConsumerStatsReport> = {}): ConsumerStatsReport => ({
  connectionId: 'memory',
  destination: 'orders',
  group: 'billing',
  consumer: 'host-1:42',
  handled: 10,
  duplicates: 2,
  withoutIdentity: 0,
  since: '2026-11-29T00:00:00.000Z',
  ...overrides,
});

async function post(served: Served, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; error: { code: string; message: string } | null }> {
  const response = await fetch(`${served.url}/api/consumer-stats`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, error: text === '' ? null : (JSON.parse(text) as { error: { code: string; message: string } }).error };
}

describe('POST /api/consumer-stats', () => {
  const data = tempDir();
  let served: Served;
  const summary = () => served.app.services.fitness.consumerReports.summaryFor('memory', 'orders');

  beforeAll(async () => {
    served = await serve(
      await testApp({
        dataDir: data.dir,
        memory: { enabled: true, demoTraffic: false },
        security: { auth: { users: await usersConfig() } },
        fitness: { reporters: [{ name: 'billing-workers', tokenSha256: createHash('sha256').update(TOKEN).digest('hex'), connections: 'mem*' }] },
      }),
    );
  });
  afterAll(async () => {
    await served?.app.close();
    data.remove();
  });

  it('refuses a report without credentials, with a wrong token, or for a connection the token does not cover, and keeps nothing', async () => {
    expect(await post(served, report())).toEqual({ status: 401, error: { code: 'UNAUTHORIZED', message: 'Send Authorization: Bearer <token> with a token listed in fitness.reporters, or sign in' } });
    expect(await post(served, report(), { authorization: 'Bearer not-the-token' })).toEqual({ status: 401, error: { code: 'UNAUTHORIZED', message: 'The bearer token is not one of fitness.reporters' } });
    expect(summary()).toBeNull();
  });

  it('refuses malformed reports with a typed error naming the field, and keeps nothing', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect(await post(served, '{"connectionId":', auth)).toEqual({ status: 400, error: { code: 'BAD_REQUEST', message: 'Invalid consumer stats report: the body is not JSON' } });
    expect((await post(served, report({ handled: -1 }), auth)).error?.message).toMatch(/^Invalid consumer stats report: handled: /);
    expect((await post(served, report({ withoutIdentity: 11 }), auth)).error?.message).toBe('Invalid consumer stats report: withoutIdentity: withoutIdentity counts handled messages, so it cannot exceed handled');
    expect((await post(served, { ...report(), extra: 1 }, auth)).status).toBe(400);
    expect((await post(served, report({ since: 'yesterday' }), auth)).error?.message).toMatch(/^Invalid consumer stats report: since: /);
    expect(await post(served, report({ connectionId: 'nope' }), auth)).toEqual({ status: 404, error: { code: 'NOT_FOUND', message: 'No connection nope' } });
    expect((await post(served, 'x'.repeat(70_000), { ...auth, 'content-type': 'application/json' })).status).toBe(413);
    expect(summary()).toBeNull();
  });

  it('keeps the latest report per consumer and adds up the consumers of a destination', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect(await post(served, report(), auth)).toEqual({ status: 204, error: null });
    expect(await post(served, [report({ handled: 15, duplicates: 3 }), report({ consumer: 'host-2:7', group: 'audit', handled: 4, duplicates: 0, withoutIdentity: 1 })], auth)).toEqual({ status: 204, error: null });
    expect(summary()).toEqual({ reporting: 2, groups: ['audit', 'billing'], handled: 19, duplicates: 3, withoutIdentity: 1 });
  });

  it('lets a signed-in operator report (with the CSRF header), not a viewer', async () => {
    const viewer = await signIn(served.url, 'vera');
    const refused = await post(served, report({ destination: 'payments' }), { cookie: viewer.cookie, 'x-mailroom-csrf': viewer.csrf });
    expect(refused).toEqual({ status: 403, error: { code: 'FORBIDDEN', message: 'vera is not operator on connection memory' } });
    const operator = await signIn(served.url, 'otto');
    expect((await post(served, report({ destination: 'payments' }), { cookie: operator.cookie })).status).toBe(403);
    expect(await post(served, report({ destination: 'payments' }), { cookie: operator.cookie, 'x-mailroom-csrf': operator.csrf })).toEqual({ status: 204, error: null });
    expect(served.app.services.fitness.consumerReports.summaryFor('memory', 'payments')?.reporting).toBe(1);
  });
});
