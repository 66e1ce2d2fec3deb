import type { ConnectionInfo } from '../connections/connection';
import type { GuardContext } from '../security/guard';
import { roleOf } from './principal';
import { atLeast } from './roles';

/**
 * A connection as the caller may see it (null: the caller has no role on it, so it is not
 * listed). `readOnly` becomes true whenever the caller cannot change anything there, with the
 * reason, so the web app hides mutations by reading one flag.
 */
export function viewOf(ctx: GuardContext, info: ConnectionInfo): ConnectionInfo | null {
  if (ctx.principal === null) return null;
  const role = roleOf(ctx.principal, info.id);
  if (role === null) return null;
  const global = ctx.services.settings.security.readOnly;
  const reason = global
    ? 'Mailroom is in read-only mode'
    : info.readOnly
      ? info.readOnlyReason
      : !atLeast(role, 'operator')
        ? `your role on this connection is ${role}`
        : null;
  return { ...info, role, readOnly: reason !== null, readOnlyReason: reason };
}

export function visibleConnections(ctx: GuardContext, infos: ConnectionInfo[]): ConnectionInfo[] {
  return infos.map((i) => viewOf(ctx, i)).filter((i): i is ConnectionInfo => i !== null);
}

/** Connection ids the caller has any role on. */
export function visibleConnectionIds(ctx: GuardContext): Set<string> {
  return new Set(visibleConnections(ctx, ctx.services.connections.list()).map((c) => c.id));
}
