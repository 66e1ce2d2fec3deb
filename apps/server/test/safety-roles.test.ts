import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TRPCClient } from '@trpc/client';
import type { AppRouter } from '../src/router';
import { b64, serve, tempDir, testApp, trpcClient, type Served } from './helpers';
import { outcome, rawCall, signIn, usersConfig } from './safety-helpers';

type Client = TRPCClient<AppRouter>;
type Role = 'viewer' | 'operator' | 'admin';

const memory = { kind: 'memory', readOnly: false, demoTraffic: false, config: {} };

/** Each action with the least role it needs, run on connection "memory" as the given user. */
function actions(c: Client, who: string): { name: string; needs: Role; run: () => Promise<unknown> }[] {
  const q = 'roles-q';
  return [
    { name: 'destinations.list', needs: 'viewer', run: () => c.destinations.list.query({ connectionId: 'memory' }) },
    { name: 'messages.browse', needs: 'viewer', run: () => c.messages.browse.query({ connectionId: 'memory', destination: q, start: { from: 'oldest' } }) },
    { name: 'groups.list', needs: 'viewer', run: () => c.groups.list.query({ connectionId: 'memory' }) },
    { name: 'pending.list', needs: 'viewer', run: () => c.pending.list.query({ connectionId: 'memory', destination: q, group: 'roles-g' }) },
    { name: 'deadLetters.list', needs: 'viewer', run: () => c.deadLetters.list.query({ connectionId: 'memory' }) },
    { name: 'redrive dry run', needs: 'operator', run: () => c.redrive.start.mutate({ connectionId: 'memory', source: `${q}.dlq`, target: q, dryRun: true }) },
    { name: 'messages.publish', needs: 'operator', run: () => c.messages.publish.mutate({ connectionId: 'memory', destination: q, messages: [{ key: who, headers: {}, value: { encoding: 'text', data: `from ${who}` } }] }) },
    { name: 'messages.request', needs: 'operator', run: () => c.messages.request.mutate({ connectionId: 'memory', destination: q, message: { key: null, headers: {}, value: { encoding: 'base64', data: b64('ping') } }, timeoutMs: 100 }) },
    { name: 'destinations.purge', needs: 'operator', run: () => c.destinations.purge.mutate({ connectionId: 'memory', name: `${q}.scratch` }) },
    { name: 'pending.ack', needs: 'operator', run: () => c.pending.ack.mutate({ connectionId: 'memory', destination: q, group: 'roles-g', ids: ['0:0'] }) },
    { name: 'pending.claim', needs: 'operator', run: () => c.pending.claim.mutate({ connectionId: 'memory', destination: q, group: 'roles-g', consumer: who, ids: ['0:0'] }) },
    { name: 'redrive.start', needs: 'operator', run: () => c.redrive.start.mutate({ connectionId: 'memory', source: `${q}.dlq`, target: q }) },
    { name: 'destinations.create', needs: 'admin', run: () => c.destinations.create.mutate({ connectionId: 'memory', name: `roles-new-${who}`, partitions: 1 }) },
    { name: 'destinations.delete', needs: 'admin', run: () => c.destinations.delete.mutate({ connectionId: 'memory', name: `roles-new-${who}` }) },
    { name: 'groups.resetOffsets', needs: 'admin', run: () => c.groups.resetOffsets.mutate({ connectionId: 'memory', group: 'roles-idle', destination: q, target: { kind: 'earliest' } }) },
  ];
}

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

describe('roles over HTTP', () => {
  const data = tempDir();
  let served: Served;

  beforeAll(async () => {
    served = await serve(
      await testApp({
        dataDir: data.dir,
        memory: { enabled: true, demoTraffic: false },
        connections: [
          { id: 'other', ...memory },
          { id: 'secret', ...memory },
        ],
        security: { auth: { users: await usersConfig(), signInLimit: { maxFailures: 3, windowMinutes: 1 } } },
      }),
    );
    const admin = served.app.caller;
    for (const name of ['roles-q', 'roles-q.dlq', 'roles-q.scratch']) await admin.destinations.create({ connectionId: 'memory', name, partitions: 1 });
    await admin.messages.publish({ connectionId: 'memory', destination: 'roles-q.dlq', messages: [{ key: 'k', headers: { 'x-mailroom-origin': 'roles-q' }, value: { encoding: 'text', data: 'dead' } }] });
    await admin.destinations.create({ connectionId: 'other', name: 'roles-q', partitions: 1 });
    await admin.destinations.create({ connectionId: 'secret', name: 'roles-q', partitions: 1 });
  });
  afterAll(async () => {
    await served?.app.close();
    data.remove();
  });

  it('without a session every procedure but session.me and session.signIn is UNAUTHORIZED (401)', async () => {
    const anonymous = trpcClient(served.url);
    expect(await outcome(anonymous.connections.list.query())).toBe('UNAUTHORIZED');
    expect(await outcome(anonymous.messages.browse.query({ connectionId: 'memory', destination: 'roles-q' }))).toBe('UNAUTHORIZED');
    expect(await outcome(anonymous.messages.publish.mutate({ connectionId: 'memory', destination: 'roles-q', messages: [{ key: null, headers: {}, value: { encoding: 'text', data: 'x' } }] }))).toBe('UNAUTHORIZED');
    const raw = await rawCall(served.url, 'connections.list', undefined);
    expect(raw.status).toBe(401);
    const me = await anonymous.session.me.query();
    expect(me).toMatchObject({ user: null, csrfToken: null, connections: [], signIn: { password: true, oidc: null, anonymous: false } });
    // A loopback client is not anonymous unless auth.anonymous says so.
    const depth = (await served.app.caller.messages.browse({ connectionId: 'memory', destination: 'roles-q', start: { from: 'oldest' } })).messages.length;
    expect(depth).toBe(0);
  });

  for (const [user, role] of [['vera', 'viewer'], ['otto', 'operator'], ['ada', 'admin']] as const) {
    it(`${role} (${user}): allowed actions pass the guard, the others are FORBIDDEN`, async () => {
      const session = await signIn(served.url, user);
      const client = trpcClient(served.url, session);
      const results: Record<string, string> = {};
      for (const action of actions(client, user)) results[action.name] = await outcome(action.run());
      for (const action of actions(client, user)) {
        if (RANK[role] >= RANK[action.needs]) {
          expect([action.name, results[action.name]]).not.toEqual([action.name, 'FORBIDDEN']);
          expect(results[action.name]).not.toBe('UNAUTHORIZED');
        } else {
          expect([action.name, results[action.name]]).toEqual([action.name, 'FORBIDDEN']);
        }
      }
      // What passed the guard did its work: the allowed ones that must succeed did.
      for (const name of ['destinations.list', 'messages.browse', 'deadLetters.list']) expect(results[name]).toBe('OK');
      if (RANK[role] >= 2) for (const name of ['messages.publish', 'destinations.purge', 'redrive.start', 'redrive dry run']) expect([name, results[name]]).toEqual([name, 'OK']);
      if (role === 'admin') for (const name of ['destinations.create', 'destinations.delete']) expect([name, results[name]]).toEqual([name, 'OK']);

      const me = await client.session.me.query();
      expect(me.user).toEqual({ name: user, via: 'password' });
      expect(me.connections.map((c) => [c.id, c.role, c.readOnly])).toEqual([
        ['memory', role, role === 'viewer'],
        ['other', role, role === 'viewer'],
        ['secret', role, role === 'viewer'],
      ]);
      const message = await rawCall(served.url, 'messages.publish', { connectionId: 'memory', destination: 'roles-q', messages: [{ key: null, headers: {}, value: { encoding: 'text', data: 'x' } }] }, {
        mutation: true,
        headers: { cookie: session.cookie, 'x-mailroom-csrf': session.csrf },
      });
      expect(message.status).toBe(role === 'viewer' ? 403 : 200);
      if (role === 'viewer') expect(message.body.error?.message).toBe('vera is viewer on connection memory; this needs operator');
    });
  }

  it('roles are per connection: operator on memory, viewer elsewhere, nothing on "secret"', async () => {
    const session = await signIn(served.url, 'sam');
    const client = trpcClient(served.url, session);
    const publish = (connectionId: string) => client.messages.publish.mutate({ connectionId, destination: 'roles-q', messages: [{ key: null, headers: {}, value: { encoding: 'text', data: 'sam' } }] });
    expect(await outcome(publish('memory'))).toBe('OK');
    expect(await outcome(publish('other'))).toBe('FORBIDDEN');
    expect(await outcome(publish('secret'))).toBe('FORBIDDEN');
    expect(await outcome(client.messages.browse.query({ connectionId: 'other', destination: 'roles-q' }))).toBe('OK');
    expect(await outcome(client.messages.browse.query({ connectionId: 'secret', destination: 'roles-q' }))).toBe('FORBIDDEN');
    expect((await client.connections.list.query()).map((c) => [c.id, c.role, c.readOnly])).toEqual([
      ['memory', 'operator', false],
      ['other', 'viewer', true],
    ]);
    expect(await outcome(client.connections.get.query({ connectionId: 'secret' }))).toBe('FORBIDDEN');
    // A subscription is guarded the same way.
    const tailError = await new Promise<string>((resolve) => {
      const sub = client.messages.tail.subscribe({ connectionId: 'secret', destination: 'roles-q' }, {
        onError: (e) => {
          sub.unsubscribe();
          resolve((e as { data?: { code?: string } }).data?.code ?? 'unknown');
        },
      });
    });
    expect(tailError).toBe('FORBIDDEN');
  });

  it('wrong passwords are UNAUTHORIZED, then TOO_MANY_REQUESTS; sign-out ends the session', async () => {
    await expect(signIn(served.url, 'nobody', 'x')).rejects.toThrow(/401 Wrong user name or password/);
    await expect(signIn(served.url, 'otto', 'wrong')).rejects.toThrow(/401 Wrong user name or password/);
    await expect(signIn(served.url, 'otto', 'wrong')).rejects.toThrow(/401/);
    await expect(signIn(served.url, 'otto', 'wrong')).rejects.toThrow(/401/);
    await expect(signIn(served.url, 'otto')).rejects.toThrow(/429 Too many failed sign-ins/);

    const session = await signIn(served.url, 'ada');
    expect(session.setCookie).toMatch(/^mailroom_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const client = trpcClient(served.url, session);
    expect(await outcome(client.connections.list.query())).toBe('OK');
    await client.session.signOut.mutate();
    expect(await outcome(client.connections.list.query())).toBe('UNAUTHORIZED');
  });
});
