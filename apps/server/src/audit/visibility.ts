import { roleOf, type Principal } from '../auth/principal';
import { atLeast } from '../auth/roles';
import type { AuditEntry } from './audit-log';

/**
 * Which audit entries a principal may read: entries of a connection to operators and admins of
 * it; sign-in entries (no connection) to admins of every configured connection and to the user
 * they are about.
 */
export function auditVisibility(principal: Principal, connectionIds: string[]): (entry: AuditEntry) => boolean {
  const globalAdmin = connectionIds.length > 0 && connectionIds.every((id) => atLeast(roleOf(principal, id), 'admin'));
  const cache = new Map<string, boolean>();
  return (entry) => {
    if (entry.connectionId === null) return globalAdmin || (principal.via !== 'anonymous' && entry.user === principal.user);
    let ok = cache.get(entry.connectionId);
    if (ok === undefined) {
      ok = atLeast(roleOf(principal, entry.connectionId), 'operator');
      cache.set(entry.connectionId, ok);
    }
    return ok;
  };
}
