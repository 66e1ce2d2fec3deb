import { TRPCError } from '@trpc/server';
import type { AuditLog } from '../audit/audit-log';
import type { AuthSettings } from '../security/settings';
import { isLoopbackAddress, isLoopbackHostHeader } from '../security/loopback';
import { parseCookies, serializeCookie, sessionCookieName } from './cookies';
import { DUMMY_HASH, verifyPassword } from './passwords';
import type { Principal, SignInMethod } from './principal';
import type { RoleGrants } from './roles';
import { SessionStore } from './sessions';

/** What principal resolution needs from an HTTP request. */
export interface RequestFacts {
  cookieHeader: string | undefined;
  remoteAddress: string | undefined;
  hostHeader: string | undefined;
  /** The request came over https (directly or through a trusted proxy). */
  secure: boolean;
}

interface Failures {
  count: number;
  since: number;
}

const MAX_TRACKED_FAILURES = 10_000;

/** Sign-in (local accounts, sessions, anonymous loopback access) and the session cookie. */
export class AuthService {
  readonly sessions: SessionStore;
  private readonly failures = new Map<string, Failures>();

  constructor(
    readonly settings: AuthSettings,
    private readonly audit: AuditLog,
  ) {
    this.sessions = new SessionStore({ ttlMs: settings.session.ttlMs, idleMs: settings.session.idleMs });
  }

  /** Secure cookies: configured, or "auto" and the request came over https. */
  secureFor(facts: Pick<RequestFacts, 'secure'>): boolean {
    const setting = this.settings.session.secureCookie;
    return setting === 'auto' ? facts.secure : setting;
  }

  /** The session token the request carries, if any. */
  sessionToken(facts: RequestFacts): string | null {
    const cookies = parseCookies(facts.cookieHeader);
    return cookies.get(sessionCookieName(true)) ?? cookies.get(sessionCookieName(false)) ?? null;
  }

  /** A session cookie wins; otherwise anonymous access when configured and the request is local. */
  principalFor(facts: RequestFacts): Principal | null {
    const token = this.sessionToken(facts);
    if (token !== null) {
      const principal = this.sessions.get(token);
      if (principal) return principal;
    }
    return this.anonymousFor(facts);
  }

  /** Anonymous access: configured, from a loopback peer, addressed by a loopback host name. */
  anonymousFor(facts: Pick<RequestFacts, 'remoteAddress' | 'hostHeader'>): Principal | null {
    const grants = this.settings.anonymous;
    if (grants === null || !isLoopbackAddress(facts.remoteAddress) || !isLoopbackHostHeader(facts.hostHeader)) return null;
    return { user: 'anonymous', via: 'anonymous', grants, sessionId: null, csrfToken: null };
  }

  /** Starts a session; returns the principal and the Set-Cookie value. */
  startSession(user: string, via: SignInMethod, grants: RoleGrants, facts: Pick<RequestFacts, 'secure'>): { principal: Principal; setCookie: string } {
    const { token, principal } = this.sessions.create(user, via, grants);
    const secure = this.secureFor(facts);
    return {
      principal,
      setCookie: serializeCookie(sessionCookieName(secure), token, { secure, sameSite: 'Strict', path: '/', maxAgeSeconds: Math.floor(this.settings.session.ttlMs / 1000) }),
    };
  }

  /** Ends the request's session; returns the Set-Cookie values that clear it. */
  endSession(facts: RequestFacts): string[] {
    const token = this.sessionToken(facts);
    if (token !== null) this.sessions.destroy(token);
    return [true, false].map((secure) => serializeCookie(sessionCookieName(secure), '', { secure, sameSite: 'Strict', path: '/', maxAgeSeconds: 0 }));
  }

  private throttleKey(kind: 'user' | 'ip', value: string): string {
    return `${kind}:${value.toLowerCase()}`;
  }

  private isThrottled(key: string): boolean {
    const f = this.failures.get(key);
    if (!f) return false;
    if (Date.now() - f.since > this.settings.signInLimit.windowMs) {
      this.failures.delete(key);
      return false;
    }
    // One address may stand for many people (a NAT, a proxy): it gets five times the allowance of a user name.
    const limit = this.settings.signInLimit.maxFailures * (key.startsWith('ip:') ? 5 : 1);
    return f.count >= limit;
  }

  private countFailure(key: string): void {
    const now = Date.now();
    const f = this.failures.get(key);
    if (!f || now - f.since > this.settings.signInLimit.windowMs) {
      if (this.failures.size >= MAX_TRACKED_FAILURES) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(key, { count: 1, since: now });
    } else f.count += 1;
  }

  /**
   * Checks a local account's password. Unknown users cost the same scrypt time as known ones,
   * and every answer for a wrong name or password is the same. Repeated failures for a user
   * (or, five times as many, from an address) are refused for the configured window. Every attempt is audited.
   */
  async verifyLocal(username: string, password: string, ip: string | null): Promise<{ user: string; grants: RoleGrants }> {
    const keys = [this.throttleKey('user', username), ...(ip ? [this.throttleKey('ip', ip)] : [])];
    const base = { user: username, via: 'password' as const, sessionId: null, ip, action: 'auth.signIn', connectionId: null, destination: null, detail: 'password', count: null };
    if (keys.some((k) => this.isThrottled(k))) {
      this.audit.record({ ...base, result: 'refused', error: 'TOO_MANY_REQUESTS: too many failed sign-ins' });
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Too many failed sign-ins; try again in ${Math.round(this.settings.signInLimit.windowMs / 60_000)} minutes.` });
    }
    const account = this.settings.users.find((u) => u.username.toLowerCase() === username.toLowerCase());
    const ok = await verifyPassword(password, account?.passwordHash ?? DUMMY_HASH);
    if (!account || !ok) {
      for (const k of keys) this.countFailure(k);
      this.audit.record({ ...base, result: 'refused', error: 'UNAUTHORIZED: wrong user name or password' });
      throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Wrong user name or password.' });
    }
    for (const k of keys) this.failures.delete(k);
    return { user: account.username, grants: account.grants };
  }
}
