import { describe, expect, it } from 'vitest';
import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import { utf8 } from '@mailroom/core';
import { ATTR_ENCODING, ATTR_HEADERS, ATTR_KEY, decodeMessage, encodeMessage } from '../src/codec';
import { chunkBatches, groupIdForKey, type OutgoingMessage } from '../src/send';
import { deadLetterName } from '../src/names';
import { conventionalOrigin, deadLetterMap, parseRedrivePolicy, queueInfo } from '../src/queues';

/** What SQS hands back for what we sent: the same body and attributes. */
function echo(encoded: ReturnType<typeof encodeMessage>): SqsMessage {
  return { Body: encoded.body, MessageAttributes: encoded.attributes };
}

describe('codec', () => {
  it('keeps valid UTF-8 as the plain body, with no extra attributes', () => {
    const encoded = encodeMessage({ key: null, value: utf8('{"order":42}'), headers: {} });
    expect(encoded.body).toBe('{"order":42}');
    expect(encoded.attributes).toEqual({});
    expect(encoded.size).toBe(12);
  });

  it('base64-encodes bytes that are not UTF-8 or that SQS refuses, and marks them', () => {
    for (const value of [new Uint8Array([0xff, 0x00, 0x80]), utf8('nul \u0000 inside'), utf8('\uffff')]) {
      const encoded = encodeMessage({ key: null, value, headers: {} });
      expect(encoded.attributes[ATTR_ENCODING]).toEqual({ DataType: 'String', StringValue: 'base64' });
      expect(Buffer.from(encoded.body, 'base64')).toEqual(Buffer.from(value));
      expect(decodeMessage(echo(encoded)).value).toEqual(value);
    }
  });

  it('round-trips an empty value (SQS bodies cannot be empty) and a leading byte-order mark', () => {
    const empty = encodeMessage({ key: null, value: new Uint8Array(0), headers: {} });
    expect(empty.body.length).toBeGreaterThan(0);
    expect(decodeMessage(echo(empty)).value).toEqual(new Uint8Array(0));
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x41]);
    expect(decodeMessage(echo(encodeMessage({ key: null, value: bom, headers: {} }))).value).toEqual(bom);
  });

  it('stores the key in mailroom-key, as JSON when SQS could not carry it as is', () => {
    expect(encodeMessage({ key: 'k-1', value: utf8('x'), headers: {} }).attributes[ATTR_KEY]).toEqual({ DataType: 'String', StringValue: 'k-1' });
    for (const key of ['', 'nul\u0000key', 'clé-🔑']) {
      expect(decodeMessage(echo(encodeMessage({ key, value: utf8('x'), headers: {} }))).key).toBe(key);
    }
    expect(encodeMessage({ key: '', value: utf8('x'), headers: {} }).attributes[ATTR_KEY]?.DataType).toBe('String.json');
  });

  it('sends headers as one attribute each while they fit SQS rules', () => {
    const headers = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`h-${i}`, `v${i}`]));
    const encoded = encodeMessage({ key: 'k', value: utf8('x'), headers });
    expect(Object.keys(encoded.attributes).sort()).toEqual([ATTR_KEY, ...Object.keys(headers)].sort());
    expect(decodeMessage(echo(encoded)).headers).toEqual(headers);
  });

  it('packs every header into mailroom-headers when there are more than fit, or names/values SQS refuses', () => {
    const many = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`h-${i}`, `v${i}`]));
    const cases = [many, { 'ünïcode name': 'x' }, { empty: '' }, { 'aws.reserved': 'x' }, { 'mailroom-key': 'clash' }, { ctl: 'a\u0001b' }];
    for (const headers of cases) {
      const encoded = encodeMessage({ key: 'k', value: utf8('x'), headers });
      expect(Object.keys(encoded.attributes).sort()).toEqual([ATTR_HEADERS, ATTR_KEY]);
      expect(decodeMessage(echo(encoded)).headers).toEqual(headers);
    }
  });

  it('counts body, attribute names, types and values toward the size', () => {
    const encoded = encodeMessage({ key: 'ab', value: utf8('héllo'), headers: { h: 'v' } });
    // body 6 bytes; mailroom-key + String + ab = 12 + 6 + 2; h + String + v = 1 + 6 + 1
    expect(encoded.size).toBe(6 + 20 + 8);
  });

  it('reads plain messages from other producers: typed attributes become headers', () => {
    const decoded = decodeMessage({
      Body: 'hello',
      MessageAttributes: { n: { DataType: 'Number', StringValue: '3' }, b: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2]) } },
    });
    expect(decoded).toEqual({ key: null, value: utf8('hello'), headers: { n: '3', b: 'AQI=' }, problem: null });
  });
});

describe('batching and names', () => {
  const sized = (size: number): OutgoingMessage => ({ body: '', attributes: {}, size });

  it('chunks by 10 entries and by the total size limit', () => {
    expect(chunkBatches(Array.from({ length: 25 }, () => sized(1)), 1000).map((c) => c.length)).toEqual([10, 10, 5]);
    expect(chunkBatches([sized(600), sized(300), sized(200), sized(1000)], 1000)).toEqual([[0, 1], [2], [3]]);
  });

  it('maps keys to FIFO group ids: valid keys as is, others to a stable hash', () => {
    expect(groupIdForKey('order-1')).toBe('order-1');
    expect(groupIdForKey(null)).toBe('mailroom-no-key');
    const hashed = groupIdForKey('clé 🔑');
    expect(hashed).toMatch(/^mailroom-sha256-[0-9a-f]{64}$/);
    expect(groupIdForKey('clé 🔑')).toBe(hashed);
    expect(groupIdForKey('x'.repeat(129))).not.toBe('x'.repeat(129));
  });

  it('names DLQs by convention, FIFO staying FIFO, and reads the convention back', () => {
    expect(deadLetterName('orders', '-dlq')).toBe('orders-dlq');
    expect(deadLetterName('jobs.fifo', '-dlq')).toBe('jobs-dlq.fifo');
    expect(conventionalOrigin('jobs-dlq.fifo', '-dlq')).toBe('jobs.fifo');
    expect(conventionalOrigin('orders', '-dlq')).toBeNull();
  });

  it('links DLQs from RedrivePolicy first, then by naming convention', () => {
    const arn = (n: string) => `arn:aws:sqs:elasticmq:000000000000:${n}`;
    const q = (name: string, attributes: Record<string, string> = {}) => queueInfo(name, `http://x/000000000000/${name}`, { QueueArn: arn(name), ...attributes });
    const policy = JSON.stringify({ deadLetterTargetArn: arn('graveyard'), maxReceiveCount: 3 });
    const map = deadLetterMap([q('a', { RedrivePolicy: policy }), q('b', { RedrivePolicy: policy }), q('graveyard'), q('c'), q('c-dlq')], '-dlq');
    expect(map.sources.get('graveyard')).toEqual({ origins: ['a', 'b'], via: 'RedrivePolicy' });
    expect(map.sources.get('c-dlq')).toEqual({ origins: ['c'], via: 'naming convention' });
    expect(map.targets.get('c')).toBe('c-dlq');
    expect(parseRedrivePolicy('{"deadLetterTargetArn":"arn:aws:sqs:r:1:d","maxReceiveCount":"5"}')).toEqual({
      deadLetterTargetArn: 'arn:aws:sqs:r:1:d',
      deadLetter: 'd',
      maxReceiveCount: 5,
    });
  });
});
