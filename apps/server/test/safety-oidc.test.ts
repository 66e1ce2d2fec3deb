import { createServer, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Provider from 'oidc-provider';
import { serve, tempDir, testApp, trpcClient, type Served } from './helpers';
import { outcome } from './safety-helpers';

/** A tiny cookie jar per host (enough for the provider's interaction cookies and ours). */
class Jar {
  private readonly cookies = new Map<string, Map<string, string>>();
  store(url: string, response: Response): void {
    const host = new URL(url).host;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    for (const c of response.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/max-age=0/i.test(c) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.cookies.set(host, jar);
  }
  header(url: string): string {
    return [...(this.cookies.get(new URL(url).host) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  get(url: string, name: string): string | undefined {
    return this.cookies.get(new URL(url).host)?.get(name);
  }
}

/**
 * Drives a browser through the authorization code flow: follows redirects, fills the provider's
 * development login form with `login`, confirms consent, and stops at Mailroom's final redirect.
 */
async function browserSignIn(start: string, login: string, jar = new Jar(), tamper?: (callback: URL) => URL): Promise<{ location: string; jar: Jar; steps: string[] }> {
  let url = start;
  let init: RequestInit = {};
  const steps: string[] = [];
  for (let i = 0; i < 20; i++) {
    if (tamper && url.includes('/auth/oidc/callback')) url = tamper(new URL(url)).href;
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header(url) } });
    jar.store(url, response);
    steps.push(`${init.method ?? 'GET'} ${new URL(url).pathname} → ${response.status}`);
    init = {};
    if (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location')!, url).href;
      if (url.includes('/auth/oidc/callback')) return { location: next, jar, steps };
      url = next;
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (response.status !== 200 || !action) throw new Error(`unexpected ${response.status} at ${url}: ${html.slice(0, 300)}`);
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    const body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt: prompt ?? 'consent' });
    url = new URL(action.replaceAll('&amp;', '&'), url).href;
    init = { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }
  throw new Error(`no end of the flow: ${steps.join(', ')}`);
}

describe('OpenID Connect sign-in against a real provider (oidc-provider) on loopback', () => {
  const data = tempDir();
  let served: Served;
  let idp: Server;
  let issuer: string;

  beforeAll(async () => {
    // The provider needs its own port before Mailroom's redirect URI is known: reserve Mailroom's first.
    const placeholder = await serve(await testApp({ dataDir: data.dir }));
    const mailroomPort = Number(new URL(placeholder.url).port);
    await placeholder.app.close();

    const idpPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const port = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(port));
      });
    });
    issuer = `http://127.0.0.1:${idpPort}`;
    const groups: Record<string, string[]> = { olivia: ['ops'], adam: ['ops', 'platform-admins'], nora: ['marketing'] };
    const provider = new Provider(issuer, {
      clients: [{ client_id: 'mailroom', client_secret: 'mailroom-secret', redirect_uris: [`http://127.0.0.1:${mailroomPort}/auth/oidc/callback`], grant_types: ['authorization_code'], response_types: ['code'] }],
      pkce: { required: () => true },
      claims: { openid: ['sub'], profile: ['preferred_username'], groups: ['groups'] },
      findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, preferred_username: id, groups: groups[id] ?? [] }) }),
      cookies: { keys: ['test-only-cookie-key'] },
      features: { devInteractions: { enabled: true } },
      ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
    });
    idp = await new Promise<Server>((resolve) => {
      const s = provider.listen(idpPort, '127.0.0.1', () => resolve(s));
    });

    const app = await testApp({
      dataDir: data.dir,
      memory: { enabled: true, demoTraffic: false },
      security: {
        auth: {
          oidc: {
            issuer,
            clientId: 'mailroom',
            clientSecret: 'mailroom-secret',
            redirectUri: `http://127.0.0.1:${mailroomPort}/auth/oidc/callback`,
            scopes: ['openid', 'profile', 'groups'],
            roleMapping: { ops: { '*': 'operator' }, 'platform-admins': { '*': 'admin' } },
          },
        },
      },
    });
    const { url, server } = await app.listen(mailroomPort, '127.0.0.1');
    served = { app, url, server, client: trpcClient(url) };
  });
  afterAll(async () => {
    await served?.app.close();
    await new Promise((r) => idp?.close(r));
    data.remove();
  });

  it('code flow with PKCE, state and nonce; roles come from the groups claim', async () => {
    const first = await fetch(`${served.url}/auth/oidc/start?returnTo=/connections/memory`, { redirect: 'manual' });
    expect(first.status).toBe(302);
    const authorize = new URL(first.headers.get('location')!);
    expect(authorize.origin).toBe(issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(authorize.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(first.headers.getSetCookie()[0]).toMatch(/^mailroom_oidc=[^;]+; Path=\/auth\/oidc; HttpOnly; SameSite=Lax; Max-Age=600$/);

    const { location, jar } = await browserSignIn(`${served.url}/auth/oidc/start?returnTo=/connections/memory`, 'olivia');
    expect(location).toBe(`${served.url}/connections/memory`);
    const cookie = `mailroom_session=${jar.get(served.url, 'mailroom_session')}`;
    const me = await trpcClient(served.url, { cookie }).session.me.query();
    expect(me.user).toEqual({ name: 'olivia', via: 'oidc' });
    expect(me.connections).toEqual([{ id: 'memory', role: 'operator', readOnly: false, readOnlyReason: null }]);
    const client = trpcClient(served.url, { cookie, csrf: me.csrfToken! });
    expect(await outcome(client.messages.publish.mutate({ connectionId: 'memory', destination: 'oidc-q', messages: [{ key: null, headers: {}, value: { encoding: 'text', data: 'x' } }] }))).toMatch(/^(OK|NOT_FOUND)$/);
    expect(await outcome(client.destinations.create.mutate({ connectionId: 'memory', name: 'oidc-q', partitions: 1 }))).toBe('FORBIDDEN');

    const admin = await browserSignIn(`${served.url}/auth/oidc/start`, 'adam');
    const adminMe = await trpcClient(served.url, { cookie: `mailroom_session=${admin.jar.get(served.url, 'mailroom_session')}` }).session.me.query();
    expect(adminMe.connections.map((c) => c.role)).toEqual(['admin']);
    const audit = served.app.services.audit.select({ action: 'auth.signIn' }, () => true);
    expect(audit.slice(0, 2).map((e) => [e.user, e.via, e.result])).toEqual([['adam', 'oidc', 'ok'], ['olivia', 'oidc', 'ok']]);
  });

  it('a user without a mapped group, a forged state and an open redirect are all refused', async () => {
    const nora = await browserSignIn(`${served.url}/auth/oidc/start`, 'nora');
    expect(nora.location).toMatch(/\/signin\?error=nora%20has%20no%20Mailroom%20role/);
    expect(nora.jar.get(served.url, 'mailroom_session')).toBeUndefined();

    const forged = await browserSignIn(`${served.url}/auth/oidc/start`, 'olivia', new Jar(), (callback) => {
      callback.searchParams.set('state', 'forged-state-value-000000');
      return callback;
    });
    expect(decodeURIComponent(forged.location)).toMatch(/state mismatch/);
    expect(forged.jar.get(served.url, 'mailroom_session')).toBeUndefined();

    const redirect = await browserSignIn(`${served.url}/auth/oidc/start?returnTo=//evil.example/x`, 'olivia');
    expect(redirect.location).toBe(`${served.url}/`);
    const refused = served.app.services.audit.select({ action: 'auth.signIn', result: 'refused' }, () => true);
    expect(refused.map((e) => e.error)).toEqual([expect.stringMatching(/state mismatch/), expect.stringMatching(/^nora has no Mailroom role/)]);
  });
});
