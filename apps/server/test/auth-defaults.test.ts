import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { loadSettings } from '../src/config/load';
import { serve, tempDir, trpcClient, type Served } from './helpers';
import { signIn } from './safety-helpers';

const quiet = { log: () => undefined, webDist: null, memory: { enabled: true, demoTraffic: false } } as const;

describe('sign-in is on by default; anonymous access only when configured, only on loopback', () => {
  const data = tempDir();
  const servers: Served[] = [];
  afterAll(async () => {
    for (const s of servers) await s.app.close();
    data.remove();
  });

  it('with no configuration at all, a loopback client must sign in, and the generated admin password works', async () => {
    const served = await serve(await createApp({ ...quiet, env: { HOST: '127.0.0.1', MAILROOM_DATA_DIR: data.dir } }));
    servers.push(served);
    const auth = served.app.settings.security.auth;
    expect(auth.mode).toBe('generated-admin');
    expect(auth.anonymous).toBeNull();
    const anonymous = trpcClient(served.url);
    await expect(anonymous.connections.list.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    expect((await anonymous.session.me.query()).signIn).toMatchObject({ password: true, anonymous: false, generatedPassword: true });
    const admin = await signIn(served.url, 'admin', auth.generatedAdminPassword!);
    const ids = (await trpcClient(served.url, admin).connections.list.query()).map((c) => c.id);
    expect(ids).toEqual(['memory']);
  });

  it('MAILROOM_ANONYMOUS_ROLE turns anonymous access on for loopback clients with that role, and nothing more', async () => {
    const served = await serve(await createApp({ ...quiet, env: { HOST: '127.0.0.1', MAILROOM_DATA_DIR: data.dir, MAILROOM_ANONYMOUS_ROLE: 'viewer' } }));
    servers.push(served);
    expect(served.app.settings.security.auth).toMatchObject({ mode: 'anonymous-env', anonymous: { '*': 'viewer' }, users: [] });
    const anonymous = trpcClient(served.url);
    expect((await anonymous.connections.list.query()).map((c) => c.id)).toEqual(['memory']);
    await expect(anonymous.destinations.create.mutate({ connectionId: 'memory', name: 'not-allowed', partitions: 1 })).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
  });

  it('refuses anonymous access at startup on a non-loopback bind, from the environment or the config file, and a role that does not exist', async () => {
    await expect(loadSettings({ HOST: '0.0.0.0', MAILROOM_ANONYMOUS_ROLE: 'operator' })).rejects.toThrow(
      'MAILROOM_ANONYMOUS_ROLE is only allowed when the server listens on loopback (HOST=127.0.0.1 or ::1); it listens on 0.0.0.0',
    );
    await expect(loadSettings({ HOST: '0.0.0.0' }, { file: { auth: { anonymous: { role: 'viewer' } } } })).rejects.toThrow(
      'auth.anonymous is only allowed when the server listens on loopback (HOST=127.0.0.1 or ::1); it listens on 0.0.0.0',
    );
    await expect(loadSettings({ HOST: '127.0.0.1', MAILROOM_ANONYMOUS_ROLE: 'root' })).rejects.toThrow('MAILROOM_ANONYMOUS_ROLE must be viewer, operator or admin, got "root"');
    expect((await loadSettings({ HOST: '0.0.0.0' })).security.auth.mode).toBe('generated-admin');
  });
});
