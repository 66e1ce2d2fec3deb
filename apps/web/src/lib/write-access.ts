import { roleAllows, type Role } from '../api/session';
import type { Connection } from '../api/types';

/**
 * Why a change cannot be made on this connection, or null when it can. Every operator action
 * asks here, so a control is disabled with the same reason wherever it appears.
 */
export function writeBlocked(connection: Connection, action: string, needs: Role = 'operator'): string | null {
  if (connection.readOnly) return connection.readOnlyReason ? `${action[0]!.toUpperCase()}${action.slice(1)} is disabled: ${connection.readOnlyReason}.` : `This connection is read-only: ${action} is disabled.`;
  if (!roleAllows(connection.role, needs)) return `${action[0]!.toUpperCase()}${action.slice(1)} needs the ${needs} role; yours on this connection is ${connection.role}.`;
  return null;
}
