import { describe, expect, it } from 'vitest';
import { bytesEqual, fromBase64, toBase64, toHex, tryDecodeUtf8, utf8 } from '../src/bytes';
import { decodeCursor, encodeCursor } from '../src/cursor';
import { InvalidInputError } from '../src/errors';
import { Headers, messageIdentity } from '../src/headers';
import type { ReceivedMessage } from '../src/message';
import { BoundedDedupeStore, idempotent } from '../src/patterns/idempotent';

function received(id: string | null): ReceivedMessage {
  return {
    topic: 't', id: 'pos', partition: null, deliveryCount: 1, key: null, value: utf8('x'),
    headers: id === null ? {} : { [Headers.messageId]: id }, timestamp: new Date(),
  };
}

describe('idempotent', () => {
  it('handles each id once and counts duplicates', async () => {
    const seen: string[] = [];
    const handler = idempotent(async (m) => {
      seen.push(m.headers[Headers.messageId] ?? 'none');
    });
    for (const id of ['a', 'b', 'a', 'c', 'b', null]) await handler(received(id));
    expect(seen).toEqual(['a', 'b', 'c', 'none']);
    expect(handler.stats).toEqual({ handled: 4, duplicates: 2, withoutIdentity: 1 });
  });

  it('does not record an id whose handler failed, so a retry runs it again', async () => {
    let fail = true;
    let runs = 0;
    const handler = idempotent(async () => {
      runs++;
      if (fail) throw new Error('x');
    });
    await expect(handler(received('a'))).rejects.toThrow('x');
    fail = false;
    await handler(received('a'));
    await handler(received('a'));
    expect(runs).toBe(2);
  });

  it('keeps memory bounded by forgetting the oldest ids', () => {
    const store = new BoundedDedupeStore(3);
    for (const id of ['a', 'b', 'c', 'd']) store.add(id);
    expect(store.size).toBe(3);
    expect(store.has('a')).toBe(false);
    expect(store.has('d')).toBe(true);
  });

  it('finds identity in headers, then properties', () => {
    expect(messageIdentity({ 'idempotency-key': 'k1' })).toBe('k1');
    expect(messageIdentity({}, { messageId: 'p1' })).toBe('p1');
    expect(messageIdentity({})).toBeNull();
  });
});

describe('bytes and cursors', () => {
  it('round-trips every byte value through base64', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect(bytesEqual(fromBase64(toBase64(all)), all)).toBe(true);
    expect(toHex(new Uint8Array([0, 15, 255]))).toBe('000fff');
  });

  it('tells UTF-8 from binary', () => {
    expect(tryDecodeUtf8(utf8('héllo ✓'))).toBe('héllo ✓');
    expect(tryDecodeUtf8(new Uint8Array([0xc3, 0x28]))).toBeNull();
  });

  it('keeps a leading byte-order mark when decoding', () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, 0x61]);
    expect(tryDecodeUtf8(withBom)).toBe('\uFEFFa');
    expect(bytesEqual(utf8(tryDecodeUtf8(withBom) ?? ''), withBom)).toBe(true);
  });

  it('rejects malformed base64', () => {
    expect(() => fromBase64('abc')).toThrow(TypeError);
    expect(() => fromBase64('ab$=')).toThrow(TypeError);
  });

  it('encodes opaque cursors and rejects tampered ones with a typed error', () => {
    const cursor = encodeCursor({ p: [1, 2], o: '99' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({ p: [1, 2], o: '99' });
    expect(() => decodeCursor('%%%')).toThrow(InvalidInputError);
  });
});
