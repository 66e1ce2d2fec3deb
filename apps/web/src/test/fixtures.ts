import { toBase64, utf8 } from '@mailroom/core';
import type { Capabilities, Connection, Destination, DestinationDetail, WireMessage } from '../api/types';

export const kafkaLikeCaps: Capabilities = {
  partitions: true, consumerGroups: true, browseByPosition: true, browseByTimestamp: true,
  peekIsDestructive: false, peekWarning: null, publishSubscribe: true, nativeRedrive: false,
  resetOffsets: true, pendingEntries: false, purge: true, createDestination: true, deleteDestination: true,
  publishProperties: ['partition', 'messageId'], maxMessageBytes: 1_048_576,
};

export const rabbitLikeCaps: Capabilities = {
  ...kafkaLikeCaps,
  partitions: false, browseByPosition: false, browseByTimestamp: false,
  peekIsDestructive: true,
  peekWarning: 'A peek takes messages with basic.get and requeues them: they come back marked redelivered.',
  publishProperties: ['messageId', 'routingKey', 'persistent'],
};

export function connection(over: Partial<Connection> = {}): Connection {
  return {
    id: 'memory', name: 'Demo', kind: 'memory', readOnly: false, capabilities: kafkaLikeCaps,
    health: { status: 'up', reason: null, checkedAt: '2026-01-01T00:00:00.000Z', latencyMs: 1, version: 'mailroom-memory 0.1.0', failures: 0 },
    ...over,
  } as Connection;
}

export const downConnection = (over: Partial<Connection> = {}) =>
  connection({ id: 'staging', name: 'Kafka staging', kind: 'kafka', health: { status: 'down', reason: 'connect ECONNREFUSED 127.0.0.1:9099', checkedAt: '2026-01-01T00:00:00.000Z', latencyMs: 0, version: null, failures: 3 } as Connection['health'], ...over });

export function destination(name: string, over: Partial<Destination> = {}): Destination {
  return {
    name, kind: 'topic', depth: 10, inFlight: 0, partitions: 3, consumers: 1, lag: 0, publishRate: 1, deliverRate: 1,
    isDeadLetter: false, deadLetter: null, deadLetterSources: [], attributes: {}, ...over,
  };
}

export function detail(name: string, over: Partial<DestinationDetail> = {}): DestinationDetail {
  return {
    ...destination(name),
    partitionDetails: [0, 1, 2].map((p) => ({ partition: p, low: '0', high: '10', count: 10 })),
    config: { 'retention.ms': '604800000' },
    ...over,
  } as DestinationDetail;
}

export function message(i: number, over: Partial<WireMessage> = {}): WireMessage {
  const value = utf8(JSON.stringify({ orderId: `o-${i}`, amount: i * 10 }));
  return {
    id: `0:${i}`, destination: 'orders', partition: 0, position: String(i), key: `c-${i}`,
    valueBase64: toBase64(value), size: value.byteLength, truncated: false,
    headers: { 'content-type': 'application/json' }, timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    deliveryCount: null, redelivered: null, properties: {}, deadLetter: null, ...over,
  };
}

export function page(messages: WireMessage[], over: Partial<{ nextCursor: string | null; scanned: number; destructive: boolean; warnings: string[] }> = {}) {
  return { messages, nextCursor: null, scanned: messages.length, destructive: false, warnings: [], ...over };
}
