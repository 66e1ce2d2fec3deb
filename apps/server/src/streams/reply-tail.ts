import { Headers, type BrokerAdapter, type StoredMessage } from '@mailroom/core';

export interface ReplyTail {
  /** Resolves once the tail is positioned (a reply sent from then on is seen); rejects when it could not start. */
  ready: Promise<void>;
  /** The first message on the destination carrying the correlation id; null if the tail ended without one. */
  reply: Promise<StoredMessage | null>;
  stop: () => void;
}

/**
 * Awaits a reply by tailing the reply destination for its correlation id. Unlike a reply
 * consumer, a tail creates no consumer group, so it leaves nothing behind on the broker.
 * Start it (and await `ready`) before sending the request.
 */
export function tailForReply(adapter: BrokerAdapter, destination: string, correlationId: string): ReplyTail {
  const controller = new AbortController();
  let markReady: () => void = () => undefined;
  const positioned = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const reply = (async () => {
    const iterable = adapter.tail({
      destination,
      filter: (m) => m.headers[Headers.correlationId] === correlationId,
      signal: controller.signal,
      maxBatch: 1,
      onReady: () => markReady(),
    });
    for await (const batch of iterable) {
      const first = batch.messages[0];
      if (first) return first;
    }
    return null;
  })();
  reply.catch(() => undefined);
  return {
    ready: Promise.race([positioned, reply.then(() => undefined)]),
    reply,
    stop: () => controller.abort(),
  };
}
