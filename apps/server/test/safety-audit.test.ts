import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '@mailroom/core';
import type { MailroomApp } from '../src/app';
import type { AuditEntry, SessionInfo } from '../src/router';
import { serve, tempDir, testApp, trpcClient, waitFor, type Served } from './helpers';
import { outcome, rawCall, signIn, usersConfig } from './safety-helpers';

describe('audit log', () => {
  const data = tempDir();
  let served: Served;
  let users: Awaited<ReturnType<typeof usersConfig>>;
  const options = async (): Promise<Parameters<typeof testApp>[0]> => ({ dataDir: data.dir, memory: { enabled: true, demoTraffic: false }, security: { auth: { users } } });

  beforeAll(async () => {
    users = await usersConfig();
    served = await serve(await testApp(await options()));
    const adapter = served.app.services.connections.get('memory').requireAdapter();
    for (const name of ['audit-q', 'audit-q.dlq']) await adapter.createDestination(name, { partitions: 1 });
    await adapter.publish('audit-q.dlq', [1, 2, 3].map((i) => ({ key: `k${i}`, value: utf8(`dead ${i}`), headers: { 'x-mailroom-origin': 'audit-q' } })));
  });
  afterAll(async () => {
    await served?.app.close();
    data.remove();
  });

  it('records who, when, where, what, how many and the result of every mutation and sign-in', async () => {
    const started = new Date().toISOString();
    await expect(signIn(served.url, 'otto', 'wrong')).rejects.toThrow(/401/);
    const otto = trpcClient(served.url, await signIn(served.url, 'otto'));
    const ada = trpcClient(served.url, await signIn(served.url, 'ada'));
    const vera = trpcClient(served.url, await signIn(served.url, 'vera'));
    const c = 'memory';
    const text = (data: string) => ({ key: null, headers: {}, value: { encoding: 'text' as const, data } });
    await otto.messages.publish.mutate({ connectionId: c, destination: 'audit-q', messages: [text('a'), text('b')], copies: 3 });
    expect(await outcome(vera.messages.publish.mutate({ connectionId: c, destination: 'audit-q', messages: [text('nope')] }))).toBe('FORBIDDEN');
    const task = await otto.redrive.start.mutate({ connectionId: c, source: 'audit-q.dlq', target: 'audit-q' });
    await waitFor('redrive done', async () => (await otto.redrive.get.query({ taskId: task.id })).status === 'completed');
    await ada.destinations.create.mutate({ connectionId: c, name: 'audit-new', partitions: 2 });
    await ada.groups.resetOffsets.mutate({ connectionId: c, group: 'audit-g', destination: 'audit-q', target: { kind: 'earliest' } }).catch(() => undefined);
    await otto.pending.ack.mutate({ connectionId: c, destination: 'audit-q', group: 'audit-g', ids: ['0:0'] }).catch(() => undefined);
    await otto.pending.claim.mutate({ connectionId: c, destination: 'audit-q', group: 'audit-g', consumer: 'me', ids: ['0:0'] }).catch(() => undefined);
    await otto.messages.request.mutate({ connectionId: c, destination: 'audit-q', replyTo: 'audit-new', message: text('hi'), timeoutMs: 100 }).catch(() => undefined);
    const purged = await otto.destinations.purge.mutate({ connectionId: c, name: 'audit-q' });
    await ada.destinations.delete.mutate({ connectionId: c, name: 'audit-new' });

    const { items, total } = await ada.audit.list.query({ since: started, limit: 500 });
    const rows = items.map((e) => [e.user, e.action, e.connectionId, e.destination, e.count, e.result]).reverse();
    expect(rows).toEqual([
      ['otto', 'auth.signIn', null, null, null, 'refused'],
      ['otto', 'auth.signIn', null, null, null, 'ok'],
      ['ada', 'auth.signIn', null, null, null, 'ok'],
      ['vera', 'auth.signIn', null, null, null, 'ok'],
      ['otto', 'messages.publish', c, 'audit-q', 6, 'ok'],
      ['vera', 'messages.publish', c, 'audit-q', null, 'refused'],
      ['otto', 'redrive.start', c, 'audit-q.dlq', null, 'ok'],
      ['otto', 'redrive.finished', c, 'audit-q.dlq', 3, 'ok'],
      ['ada', 'destinations.create', c, 'audit-new', null, 'ok'],
      expect.arrayContaining(['ada', 'groups.resetOffsets', c, 'audit-q']),
      expect.arrayContaining(['otto', 'pending.ack', c, 'audit-q']),
      expect.arrayContaining(['otto', 'pending.claim', c, 'audit-q']),
      ['otto', 'messages.request', c, 'audit-q', null, 'failed'],
      ['otto', 'destinations.purge', c, 'audit-q', purged.removed, 'ok'],
      ['ada', 'destinations.delete', c, 'audit-new', null, 'ok'],
    ]);
    expect(total).toBe(rows.length);
    const publish = items.find((e) => e.action === 'messages.publish' && e.result === 'ok')!;
    expect(publish).toMatchObject({ via: 'password', ip: '127.0.0.1', detail: '2 message(s) × 3', error: null });
    expect(publish.sessionId).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(items.find((e) => e.user === 'vera' && e.action === 'messages.publish')!.error).toBe('FORBIDDEN: vera is viewer on connection memory; this needs operator');
    expect(items.find((e) => e.action === 'messages.request')!.error).toMatch(/^TIMEOUT: /);
    expect(purged.removed).toBe(10); // 6 published, 3 redriven, 1 request

    // Paging and filters.
    const page = await ada.audit.list.query({ since: started, offset: 2, limit: 3 });
    expect(page.items.map((e) => e.id)).toEqual(items.slice(2, 5).map((e) => e.id));
    expect((await ada.audit.list.query({ since: started, user: 'otto', action: 'messages.publish' })).items.map((e) => e.count)).toEqual([6]);
    expect((await ada.audit.list.query({ since: started, result: 'refused' })).total).toBe(2);
    // Operators see the connection's entries and their own sign-ins; viewers see none of the mutations.
    const ottoView = await otto.audit.list.query({ since: started, limit: 500 });
    expect(ottoView.items.filter((e) => e.connectionId === null).every((e) => e.user === 'otto')).toBe(true);
    expect(ottoView.items.filter((e) => e.connectionId !== null)).toHaveLength(rows.length - 4);
    expect((await vera.audit.list.query({ since: started })).items.map((e) => e.action)).toEqual(['auth.signIn']);

    // The Prometheus counter.
    const metrics = await (await fetch(`${served.url}/metrics`)).text();
    expect(metrics).toMatch(/^mailroom_audit_events_total\{action="messages.publish",result="ok"\} 1$/m);
    expect(metrics).toMatch(/^mailroom_audit_events_total\{action="auth.signIn",result="refused"\} 1$/m);
  });

  it('exports as CSV and JSON for a signed-in user, with formula cells neutralised', async () => {
    const session = await signIn(served.url, 'ada');
    served.app.services.audit.record({ user: 'ada', via: 'password', sessionId: null, ip: null, action: 'messages.publish', connectionId: 'memory', destination: '=HYPERLINK("http://x")', detail: 'a,"b"', count: 1, result: 'ok', error: null });
    const csv = await fetch(`${served.url}/api/audit/export?format=csv&user=ada&action=messages.publish`, { headers: { cookie: session.cookie } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="mailroom-audit-.*\.csv"$/);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('at,user,via,ip,action,connectionId,destination,detail,count,result,error,sessionId,id');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^[^,]+,ada,password,,messages.publish,memory,"'=HYPERLINK\(""http:\/\/x""\)","a,""b""",1,ok,,,/);
    const json = await fetch(`${served.url}/api/audit/export?format=json&action=auth.signIn&result=refused`, { headers: { cookie: session.cookie } });
    expect(((await json.json()) as AuditEntry[]).map((e) => [e.user, e.result])).toEqual([['otto', 'refused']]);
    expect((await fetch(`${served.url}/api/audit/export?format=csv`)).status).toBe(401);
    expect((await fetch(`${served.url}/api/audit/export?format=csv`, { headers: { cookie: session.cookie, 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
  });

  it('survives a restart (append-only JSON lines under the data dir)', async () => {
    const before = served.app.services.audit.size;
    const lines = readFileSync(path.join(data.dir, 'audit', 'audit.log'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(before);
    expect((JSON.parse(lines.at(-1)!) as AuditEntry).action).toBe('messages.publish');
    await served.app.close();
    served = await serve(await testApp(await options()));
    expect(served.app.services.audit.size).toBe(before);
    const ada = trpcClient(served.url, await signIn(served.url, 'ada'));
    const all = await ada.audit.list.query({ limit: 500 });
    expect(all.total).toBe(before + 1);
    expect(all.items.at(-1)!.user).toBe('otto');
  });
});

describe('audit log rotation', () => {
  it('keeps at most maxFiles files of at most maxFileBytes, dropping the oldest entries', async () => {
    const data = tempDir();
    let app: MailroomApp | null = null;
    try {
      app = await testApp({ dataDir: data.dir, security: { audit: { maxFileBytes: 4096, maxFiles: 3 } } });
      const entry = (i: number) => ({ user: 'u', via: 'password' as const, sessionId: null, ip: null, action: 'messages.publish', connectionId: 'c', destination: `d-${i}`, detail: 'x'.repeat(100), count: i, result: 'ok' as const, error: null });
      for (let i = 0; i < 200; i++) app.services.audit.record(entry(i));
      const dir = path.join(data.dir, 'audit');
      const files = readdirSync(dir).sort();
      expect(files).toEqual(['audit.log', 'audit.log.1', 'audit.log.2']);
      for (const f of files) expect(statSync(path.join(dir, f)).size).toBeLessThanOrEqual(4096);
      const onDisk = files.flatMap((f) => readFileSync(path.join(dir, f), 'utf8').trimEnd().split('\n')).map((l) => (JSON.parse(l) as AuditEntry).count!);
      const kept = app.services.audit.select({}, () => true).map((e) => e.count!);
      expect([...kept].sort((a, b) => a - b)).toEqual([...onDisk].sort((a, b) => a - b));
      expect(kept[0]).toBe(199);
      expect(Math.min(...kept)).toBeGreaterThan(150);
      expect(kept).toHaveLength(200 - Math.min(...kept));
      await app.close();
      app = await testApp({ dataDir: data.dir, security: { audit: { maxFileBytes: 4096, maxFiles: 3 } } });
      expect(app.services.audit.select({}, () => true).map((e) => e.count)).toEqual(kept);
    } finally {
      await app?.close();
      data.remove();
    }
  });
});

describe('audit log: cancelling a redrive and signing out', () => {
  const data = tempDir();
  let served: Served;

  beforeAll(async () => {
    served = await serve(await testApp({ dataDir: data.dir, memory: { enabled: true, demoTraffic: false }, security: { auth: { users: await usersConfig() } } }));
    const adapter = served.app.services.connections.get('memory').requireAdapter();
    for (const name of ['cancel-q', 'cancel-q.dlq']) await adapter.createDestination(name, { partitions: 1 });
    await adapter.publish('cancel-q.dlq', Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: utf8(`dead ${i}`), headers: { 'x-mailroom-origin': 'cancel-q' } })));
  });
  afterAll(async () => {
    await served?.app.close();
    data.remove();
  });

  const entriesSince = async (since: string) => {
    const ada = trpcClient(served.url, await signIn(served.url, 'ada'));
    const { items } = await ada.audit.list.query({ since, limit: 500 });
    return items.filter((e) => !(e.action === 'auth.signIn' && e.user === 'ada')).reverse();
  };

  it('redrive.cancel: who cancelled which task where, refused ones too, and the moved count of the cancelled task', async () => {
    const started = new Date().toISOString();
    const ottoSession = await signIn(served.url, 'otto');
    const otto = trpcClient(served.url, ottoSession);
    const vera = trpcClient(served.url, await signIn(served.url, 'vera'));
    const task = await otto.redrive.start.mutate({ connectionId: 'memory', source: 'cancel-q.dlq', target: 'cancel-q', ratePerSecond: 10 });
    await waitFor('some moved', async () => (await otto.redrive.get.query({ taskId: task.id })).progress.moved >= 2);
    expect(await outcome(vera.redrive.cancel.mutate({ taskId: task.id }))).toBe('FORBIDDEN');
    const cancelled = await otto.redrive.cancel.mutate({ taskId: task.id });
    expect(cancelled.status).toBe('cancelled');
    const moved = cancelled.progress.moved;
    expect(moved).toBeGreaterThanOrEqual(2);
    expect(moved).toBeLessThan(50);
    const depth = async (name: string) => (await served.app.services.connections.get('memory').requireAdapter().describeDestination(name)).depth;
    expect([await depth('cancel-q'), await depth('cancel-q.dlq')]).toEqual([moved, 50 - moved]);

    const entries = await entriesSince(started);
    const rows = entries.filter((e) => e.action !== 'auth.signIn').map((e) => [e.user, e.action, e.connectionId, e.destination, e.count, e.result]);
    expect(rows).toEqual([
      ['otto', 'redrive.start', 'memory', 'cancel-q.dlq', null, 'ok'],
      ['vera', 'redrive.cancel', 'memory', 'cancel-q.dlq', null, 'refused'],
      ['otto', 'redrive.finished', 'memory', 'cancel-q.dlq', moved, 'refused'],
      ['otto', 'redrive.cancel', 'memory', 'cancel-q.dlq', null, 'ok'],
    ]);
    const cancel = entries.find((e) => e.action === 'redrive.cancel' && e.result === 'ok')!;
    expect(cancel).toMatchObject({ via: 'password', ip: '127.0.0.1', error: null });
    expect(cancel.sessionId).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(entries.find((e) => e.user === 'vera' && e.action === 'redrive.cancel')!.error).toBe('FORBIDDEN: vera is viewer on connection memory; this needs operator');
    expect(entries.find((e) => e.action === 'redrive.finished')!.detail).toBe(`task ${task.id} cancelled: moved ${moved}, failed 0, skipped 0, possibly duplicated 0`);
  });

  it('session.signOut: the session ends and the entry names who signed out of which session', async () => {
    const started = new Date().toISOString();
    const session = await signIn(served.url, 'otto');
    const headers = { cookie: session.cookie, 'x-mailroom-csrf': session.csrf };
    const me = async () => (await rawCall(served.url, 'session.me', undefined, { headers: { cookie: session.cookie } })).body.result?.data as SessionInfo;
    expect((await me()).user?.name).toBe('otto');

    // A sign-out without the session's CSRF token is refused (and audited), and the session lives on.
    const forged = await rawCall(served.url, 'session.signOut', {}, { mutation: true, headers: { cookie: session.cookie, 'x-mailroom-csrf': 'forged' } });
    expect(forged.status).toBe(403);
    expect((await me()).user?.name).toBe('otto');

    const out = await rawCall(served.url, 'session.signOut', {}, { mutation: true, headers });
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie().some((c) => /^mailroom_session=;.*Max-Age=0/i.test(c))).toBe(true);
    expect((await me()).user).toBeNull();
    expect((await rawCall(served.url, 'messages.publish', { connectionId: 'memory', destination: 'cancel-q', messages: [{ value: { encoding: 'text', data: 'x' } }] }, { mutation: true, headers })).status).toBe(401);

    const entries = (await entriesSince(started)).filter((e) => e.user === 'otto');
    expect(entries.map((e) => [e.user, e.action, e.connectionId, e.destination, e.count, e.result])).toEqual([
      ['otto', 'auth.signIn', null, null, null, 'ok'],
      ['otto', 'auth.signOut', null, null, null, 'refused'],
      ['otto', 'auth.signOut', null, null, null, 'ok'],
    ]);
    const [signedIn, refused, signedOut] = entries;
    expect(signedOut).toMatchObject({ via: 'password', ip: '127.0.0.1', sessionId: signedIn!.sessionId, error: null });
    expect(refused!.error).toMatch(/^FORBIDDEN: CSRF check failed/);
  });
});
