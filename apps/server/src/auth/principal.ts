import type { Role, RoleGrants } from './roles';
import { roleOn } from './roles';

export type SignInMethod = 'password' | 'oidc' | 'anonymous' | 'system';

/** Who is calling: a signed-in user, an anonymous loopback client, or the in-process caller. */
export interface Principal {
  user: string;
  via: SignInMethod;
  grants: RoleGrants;
  /** Public id of the session (never the cookie value); null without a session. */
  sessionId: string | null;
  /** The token mutations must echo in x-mailroom-csrf; null without a session. */
  csrfToken: string | null;
}

export function roleOf(principal: Principal, connectionId: string): Role | null {
  return roleOn(principal.grants, connectionId);
}

/** The in-process caller (tests, scripts): admin everywhere, still bound by read-only settings. */
export const SYSTEM_PRINCIPAL: Principal = { user: 'system', via: 'system', grants: { '*': 'admin' }, sessionId: null, csrfToken: null };
