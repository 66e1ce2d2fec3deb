import { ForbiddenError, sleep } from '@mailroom/core';
import type { Connection } from '../connections/connection';
import type { Context } from './trpc';

export function connectionOf(ctx: Context, id: string): Connection {
  return ctx.services.connections.get(id);
}

/** Mutations are refused on read-only connections. */
export function writable(ctx: Context, id: string, action: string): Connection {
  const connection = connectionOf(ctx, id);
  if (connection.readOnly) {
    throw new ForbiddenError(`Connection ${connection.label} is read-only: ${action} is disabled`, { hint: 'Set "readOnly": false on the connection in the Mailroom config to allow changes.' });
  }
  return connection;
}

/** Resolves after `ms`, or earlier when `signal` aborts. */
export const pause = sleep;

/**
 * Waits until `register`'s wake function is called, `timeoutMs` passes (when given) or `signal`
 * aborts, and removes its listeners afterwards (subscriptions loop on this for hours).
 */
export function waitForWake(register: (wake: () => void) => void, signal: AbortSignal | undefined, timeoutMs?: number): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = timeoutMs === undefined ? null : setTimeout(done, timeoutMs);
    function done() {
      if (timer !== null) clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      register(() => undefined);
      resolve();
    }
    register(done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
