/**
 * Calls `send(first, count)` every `tickMs` with the messages due by then, so that `rate`
 * messages per second go out on schedule however long each send takes (sends are not awaited
 * one by one; at most `maxInFlight` run at once, beyond that the pacer waits).
 */
export async function paced(
  rate: number,
  durationMs: number,
  send: (first: number, count: number) => Promise<void>,
  options: { tickMs?: number; maxInFlight?: number } = {},
): Promise<{ sent: number; errors: unknown[] }> {
  const tickMs = options.tickMs ?? 10;
  const maxInFlight = options.maxInFlight ?? 64;
  const started = performance.now();
  const total = Math.round((rate * durationMs) / 1000);
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  const errors: unknown[] = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000));
    if (due > sent) {
      const first = sent;
      const count = due - sent;
      sent = due;
      const p = send(first, count).catch((error: unknown) => {
        errors.push(error);
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    }
    const nextDue = started + ((sent + 1) * 1000) / rate;
    const wait = Math.max(0, Math.min(tickMs, nextDue - performance.now()));
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await Promise.all(inFlight);
  return { sent, errors };
}
