import {
  ClientClosedError,
  ConflictError,
  Headers,
  idempotent,
  pollWithRetry,
  sleep,
  utf8,
  type BrokerAdapter,
  type Message,
  type MessageConsumer,
  type MessageProducer,
  type ReceivedMessage,
  type RetryPolicy,
} from '@mailroom/core';

export interface DemoTrafficOptions {
  /** Stops every producer and consumer loop. */
  signal: AbortSignal;
  /** Messages per second over all topics. Default 20. */
  messagesPerSecond?: number;
  random?: () => number;
  /** Where loop errors are reported. Default console.warn. */
  log?: (line: string) => void;
}

export interface DemoTraffic {
  /** Settles when every loop has stopped after the abort. */
  done: Promise<void>;
}

interface TopicPlan {
  name: string;
  partitions: number;
  deadLetter: { destination: string; maxDeliveries: number } | null;
  /** Share of the total rate. */
  share: number;
  /** Messages carry a message-id header. */
  withIds: boolean;
  make: (n: number, random: () => number) => { key: string | null; body: unknown };
}

const CUSTOMERS = ['c-1001', 'c-1002', 'c-1003', 'c-1004', 'c-1005', 'c-1006', 'c-1007', 'c-1008'];
const SKUS = ['SKU-RED-MUG', 'SKU-BLUE-CAP', 'SKU-GREEN-TEE', 'SKU-BOOK-42', 'SKU-LAMP'];
/** Orders for this SKU always fail in the fulfillment consumer and end in orders.dlq. */
export const BROKEN_SKU = 'SKU-BROKEN';
const BROKEN_SHARE = 0.03;
const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)] ?? (items[0] as T);

/** The demo topology: a healthy topic with a DLQ, a lagging group, failures into a DLQ, a topic with no DLQ, one without ids. */
export const DEMO_TOPICS: TopicPlan[] = [
  {
    name: 'orders',
    partitions: 3,
    deadLetter: { destination: 'orders.dlq', maxDeliveries: 5 },
    share: 0.4,
    withIds: true,
    make: (n, random) => {
      const customer = pick(CUSTOMERS, random);
      return {
        key: customer,
        body: { orderId: `o-${n}`, customer, sku: random() < BROKEN_SHARE ? BROKEN_SKU : pick(SKUS, random), quantity: 1 + Math.floor(random() * 4), amount: Math.round(random() * 20_000) / 100 },
      };
    },
  },
  {
    name: 'payments',
    partitions: 1,
    deadLetter: { destination: 'payments.dlq', maxDeliveries: 5 },
    share: 0.2,
    withIds: true,
    make: (n, random) => ({ key: `o-${n}`, body: { paymentId: `p-${n}`, orderId: `o-${n}`, method: pick(['card', 'iban', 'wallet'], random), status: 'captured' } }),
  },
  {
    name: 'notifications',
    partitions: 2,
    deadLetter: null,
    share: 0.25,
    withIds: true,
    make: (n, random) => {
      const customer = pick(CUSTOMERS, random);
      return { key: customer, body: { notificationId: `n-${n}`, customer, channel: pick(['email', 'sms', 'push'], random), template: 'order-shipped' } };
    },
  },
  {
    name: 'clickstream',
    partitions: 1,
    deadLetter: null,
    share: 0.15,
    withIds: false,
    make: (_n, random) => ({ key: null, body: { page: pick(['/', '/cart', '/checkout', '/orders'], random), ms: Math.round(random() * 900) } }),
  },
];

const RETRY: RetryPolicy = { maxAttempts: 3, initialDelayMs: 50, multiplier: 2, maxDelayMs: 1000, jitter: 0.2 };

function stopped(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted || error instanceof ClientClosedError;
}

/**
 * Runs modest, realistic traffic on `adapter` until `signal` aborts: keyed JSON messages with
 * message ids, a group that keeps up (failing some orders through retry into orders.dlq), a
 * group that falls behind, an idempotent payments consumer, one consumer that never acks,
 * a topic without a DLQ and one whose messages carry no ids. About 20 messages/s in all.
 */
export async function startDemoTraffic(adapter: BrokerAdapter, options: DemoTrafficOptions): Promise<DemoTraffic> {
  const { signal } = options;
  const random = options.random ?? Math.random;
  const log = options.log ?? ((line: string) => console.warn(`[demo] ${line}`));
  const rate = options.messagesPerSecond ?? 20;

  for (const topic of DEMO_TOPICS) {
    try {
      await adapter.createDestination(topic.name, topic.deadLetter ? { partitions: topic.partitions, deadLetter: topic.deadLetter } : { partitions: topic.partitions });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
    if (topic.deadLetter) {
      try {
        await adapter.createDestination(topic.deadLetter.destination, { partitions: 1 });
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
  }

  const producer = adapter.createProducer();
  const clients: { close(): Promise<void> }[] = [producer];
  const consumer = async (group: string, topics: string[], maxMessages: number): Promise<MessageConsumer> => {
    const c = adapter.createConsumer({ group, maxMessages });
    clients.push(c);
    await c.subscribe(topics);
    return c;
  };

  const loops: Promise<void>[] = [];
  const loop = (name: string, body: () => Promise<void>) => {
    loops.push(
      (async () => {
        while (!signal.aborted) {
          try {
            await body();
          } catch (error) {
            if (stopped(error, signal)) return;
            log(`${name}: ${error instanceof Error ? error.message : String(error)}`);
            await sleep(1000, signal);
          }
        }
      })(),
    );
  };

  loops.push(produce(producer, rate, random, signal, log));

  const retryOptions = (pollTimeoutMs: number) => ({
    policy: RETRY,
    producer,
    deadLetterFor: (topic: string) => adapter.deadLetterNameFor(topic),
    pollTimeoutMs,
    signal,
  });

  const fulfillment = await consumer('fulfillment', ['orders'], 50);
  loop('fulfillment', async () => {
    await pollWithRetry(fulfillment, failBrokenSkus, retryOptions(500));
  });

  const analytics = await consumer('analytics', ['orders'], 3);
  loop('analytics', async () => {
    const got = await analytics.poll(500);
    if (got.length > 0) await analytics.commit();
    await sleep(1000, signal);
  });

  const billing = await consumer('billing', ['payments'], 50);
  const settle = idempotent(async () => {});
  loop('billing', async () => {
    await pollWithRetry(billing, settle, retryOptions(500));
  });

  const fraud = await consumer('fraud-check', ['payments'], 5);
  let fraudHolding = false;
  loop('fraud-check', async () => {
    // Takes one batch and never acknowledges it: pending entries that age, for the ack score.
    if (!fraudHolding) fraudHolding = (await fraud.poll(500)).length > 0;
    else await sleep(5000, signal);
  });

  const mailer = await consumer('mailer', ['notifications'], 50);
  loop('mailer', async () => {
    const got = await mailer.poll(500);
    if (got.length > 0) await mailer.commit();
  });

  const rollup = await consumer('metrics-rollup', ['clickstream'], 100);
  loop('metrics-rollup', async () => {
    const got = await rollup.poll(500);
    if (got.length > 0) await rollup.commit();
  });

  const done = (async () => {
    await Promise.allSettled(loops);
    for (const client of clients) {
      try {
        await client.close();
      } catch (error) {
        if (!(error instanceof ClientClosedError)) log(`close: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return { done };
}

async function failBrokenSkus(message: ReceivedMessage): Promise<void> {
  const body = JSON.parse(new TextDecoder().decode(message.value)) as { sku?: string };
  if (body.sku === BROKEN_SKU) throw new Error(`inventory service rejected ${body.sku}: unknown SKU`);
}

async function produce(producer: MessageProducer, rate: number, random: () => number, signal: AbortSignal, log: (line: string) => void): Promise<void> {
  const tickMs = 250;
  const owed = new Map<string, number>();
  let sequence = 0;
  while (!signal.aborted) {
    for (const topic of DEMO_TOPICS) {
      const due = (owed.get(topic.name) ?? 0) + (rate * topic.share * tickMs) / 1000;
      const count = Math.floor(due);
      owed.set(topic.name, due - count);
      if (count === 0) continue;
      const messages: Message[] = [];
      for (let i = 0; i < count; i++) {
        const n = ++sequence;
        const { key, body } = topic.make(n, random);
        const headers: Record<string, string> = { 'content-type': 'application/json', 'x-source': 'mailroom-demo' };
        if (topic.withIds) headers[Headers.messageId] = `${topic.name}-${n}`;
        messages.push({ key, value: utf8(JSON.stringify(body)), headers, timestamp: new Date() });
      }
      try {
        await producer.sendBatch(topic.name, messages);
      } catch (error) {
        if (stopped(error, signal)) return;
        log(`producer ${topic.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    await sleep(tickMs, signal);
  }
}
