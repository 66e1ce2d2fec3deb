/**
 * The management API's statistics (queue counts, consumer details, the connection list) are
 * refreshed every collection interval (5 s by default) and later still on a loaded broker. Tests
 * that need them listed wait up to this long (vitest.config.ts's testTimeout leaves room for it).
 */
export const STATS_DEADLINE_MS = 45_000;

/** Reads until `done` holds or the deadline passes, and returns the last value read (for the caller's expect). */
export async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, deadlineMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await read();
  }
  return value;
}
