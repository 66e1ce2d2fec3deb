import { createHash, randomBytes } from 'node:crypto';
import type { RoleGrants } from './roles';
import type { Principal, SignInMethod } from './principal';

interface Session {
  id: string;
  user: string;
  via: SignInMethod;
  grants: RoleGrants;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

const MAX_SESSIONS = 10_000;

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * Server-side sessions in memory, keyed by a hash of the cookie value (so a heap dump or a log of
 * the map never holds a usable cookie). A restart signs everyone out.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly limits: { ttlMs: number; idleMs: number }) {}

  /** Returns the cookie value (shown only here) and the principal. */
  create(user: string, via: SignInMethod, grants: RoleGrants): { token: string; principal: Principal } {
    this.sweep();
    while (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    const token = randomBytes(32).toString('base64url');
    const now = Date.now();
    const session: Session = { id: digest(token).slice(0, 12), user, via, grants, csrfToken: randomBytes(24).toString('base64url'), createdAt: now, lastSeenAt: now };
    this.sessions.set(digest(token), session);
    return { token, principal: toPrincipal(session) };
  }

  /** The session's principal, or null when unknown, expired or idle for too long. */
  get(token: string): Principal | null {
    if (token.length < 20 || token.length > 100) return null;
    const key = digest(token);
    const session = this.sessions.get(key);
    if (!session) return null;
    const now = Date.now();
    if (now - session.createdAt > this.limits.ttlMs || now - session.lastSeenAt > this.limits.idleMs) {
      this.sessions.delete(key);
      return null;
    }
    session.lastSeenAt = now;
    return toPrincipal(session);
  }

  destroy(token: string): boolean {
    return this.sessions.delete(digest(token));
  }

  get size(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, s] of this.sessions) {
      if (now - s.createdAt > this.limits.ttlMs || now - s.lastSeenAt > this.limits.idleMs) this.sessions.delete(key);
    }
  }
}

function toPrincipal(s: Session): Principal {
  return { user: s.user, via: s.via, grants: s.grants, sessionId: s.id, csrfToken: s.csrfToken };
}
