/**
 * The benchmark message: a JSON object of `VALUE_BYTES` bytes (like the DESIGN's 200-byte
 * measurement), with a sequence number, a kind (`needle` for every `needleEvery`-th message,
 * which the filtered scan looks for) and the send time for latency.
 */
export const VALUE_BYTES = 200;
export const NEEDLE = 'needle';
export const SCAN_FILTER = `json.kind == "${NEEDLE}"`;

export function isNeedle(n: number, needleEvery: number): boolean {
  return n % needleEvery === needleEvery - 1;
}

export function messageValue(n: number, options: { needleEvery?: number; sentAt?: number } = {}): string {
  const kind = options.needleEvery !== undefined && isNeedle(n, options.needleEvery) ? NEEDLE : 'order';
  const head = `{"n":${n},"kind":"${kind}","sentAt":${options.sentAt ?? 0},"pad":"`;
  const tail = '"}';
  const pad = Math.max(0, VALUE_BYTES - head.length - tail.length);
  return head + 'x'.repeat(pad) + tail;
}

/** What a raw consumer does to apply the scan filter: parse the value and compare `kind`. */
export function rawMatches(value: Buffer | string | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  try {
    const parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8')) as { kind?: unknown };
    return parsed.kind === NEEDLE;
  } catch {
    return false;
  }
}

export function sentAtOf(value: string): number | null {
  const match = /"sentAt":(-?\d+(?:\.\d+)?)/.exec(value);
  return match ? Number(match[1]) : null;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
