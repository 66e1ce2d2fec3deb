import type { Connection } from '../api/types';

/**
 * Why a change cannot be made on this connection, or null when it can. Every operator action
 * asks here, so a control is disabled with the same reason wherever it appears.
 */
export function writeBlocked(connection: Connection, action: string): string | null {
  if (connection.readOnly) return `This connection is read-only: ${action} is disabled.`;
  return null;
}
