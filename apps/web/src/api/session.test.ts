import { describe, expect, it, vi } from 'vitest';
import { writeBlocked } from '../lib/write-access';
import { csrfHeaders, forgetCsrfToken, returnToFrom, roleAllows, sessionFetch, setCsrfToken } from './session';
import type { Connection } from './types';

const connection = (over: Partial<Connection>): Connection => ({ id: 'c', name: 'c', kind: 'memory', readOnly: false, readOnlyReason: null, role: 'operator', capabilities: null, health: { status: 'up', reason: null, checkedAt: null, latencyMs: null, version: null, failures: 0 }, ...over }) as Connection;

describe('session helpers', () => {
  it('sends the session CSRF token, or a placeholder without a session', () => {
    setCsrfToken(null);
    expect(csrfHeaders()).toEqual({ 'x-mailroom-csrf': '1' });
    setCsrfToken('tok-123');
    expect(csrfHeaders()).toEqual({ 'x-mailroom-csrf': 'tok-123' });
    setCsrfToken(null);
  });

  it('returns only to local paths after sign-in (no open redirect)', () => {
    expect(returnToFrom('?returnTo=%2Fc%2Fmemory%2Fdestinations')).toBe('/c/memory/destinations');
    for (const bad of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', '/signin?returnTo=/x', '']) {
      expect([bad, returnToFrom(`?returnTo=${encodeURIComponent(bad)}`)]).toEqual([bad, '/']);
    }
  });

  it('disables admin actions for operators and everything for read-only connections, with the reason', () => {
    expect(roleAllows('operator', 'admin')).toBe(false);
    expect(roleAllows('admin', 'operator')).toBe(true);
    expect(writeBlocked(connection({ role: 'admin' }), 'resetting offsets', 'admin')).toBeNull();
    expect(writeBlocked(connection({ role: 'operator' }), 'resetting offsets', 'admin')).toBe('Resetting offsets needs the admin role; yours on this connection is operator.');
    expect(writeBlocked(connection({ role: 'operator' }), 'publishing')).toBeNull();
    expect(writeBlocked(connection({ role: 'viewer', readOnly: true, readOnlyReason: 'your role on this connection is viewer' }), 'publishing')).toBe('Publishing is disabled: your role on this connection is viewer.');
    expect(writeBlocked(connection({ readOnly: true, readOnlyReason: null }), 'publishing')).toBe('This connection is read-only: publishing is disabled.');
  });

  it('a mutation sent before the session loaded fetches the token first and sends it', async () => {
    const seen: { url: string; csrf: string | null }[] = [];
    const fake = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      seen.push({ url, csrf: new Headers(init?.headers).get('x-mailroom-csrf') });
      return url.endsWith('/trpc/session.me') ? Response.json({ result: { data: { csrfToken: 'from-me' } } }) : Response.json({ result: { data: {} } });
    });
    vi.stubGlobal('fetch', fake);
    forgetCsrfToken();
    try {
      await sessionFetch('/trpc/messages.publish', { method: 'POST', headers: csrfHeaders(), body: '{}' });
      expect(seen).toEqual([{ url: '/trpc/session.me', csrf: null }, { url: '/trpc/messages.publish', csrf: 'from-me' }]);
    } finally {
      vi.unstubAllGlobals();
      setCsrfToken(null);
    }
  });
});
