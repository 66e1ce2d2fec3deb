import { describe, expect, it } from 'vitest';
import { utf8 } from '../src/bytes';
import { Headers } from '../src/headers';
import type { Message, MessageProducer, ReceivedMessage } from '../src/message';
import { backoffDelay, backoffSchedule } from '../src/patterns/backoff';
import { handleWithRetry, retryHistoryOf } from '../src/patterns/retry';

describe('backoffDelay', () => {
  const policy = { initialDelayMs: 100, multiplier: 2, maxDelayMs: 1000, jitter: 0.5 };

  it('grows exponentially and caps at the maximum', () => {
    expect(backoffSchedule(policy, 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('randomises only the jittered share', () => {
    expect(backoffDelay(policy, 3, () => 0)).toBe(200);
    expect(backoffDelay(policy, 3, () => 0.999999)).toBe(400);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(300);
  });

  it('rejects a non-positive attempt', () => {
    expect(() => backoffDelay(policy, 0)).toThrow(RangeError);
  });
});

class RecordingProducer implements MessageProducer {
  readonly sent: { topic: string; message: Message }[] = [];
  async send(topic: string, message: Message) {
    this.sent.push({ topic, message });
  }
  async sendBatch(topic: string, messages: Message[]) {
    for (const m of messages) await this.send(topic, m);
  }
  async close() {}
}

const received: ReceivedMessage = {
  topic: 'orders',
  id: '0:7',
  partition: 0,
  deliveryCount: 1,
  key: 'k',
  value: utf8('payload'),
  headers: { [Headers.messageId]: 'm-7' },
  timestamp: new Date(0),
};

describe('handleWithRetry', () => {
  it('retries with growing delays, then dead-letters with the history', async () => {
    const producer = new RecordingProducer();
    const waits: number[] = [];
    let calls = 0;
    const outcome = await handleWithRetry(
      received,
      async () => {
        calls++;
        throw new Error(`boom ${calls}`);
      },
      {
        policy: { initialDelayMs: 10, multiplier: 3, maxDelayMs: 1000, jitter: 0, maxAttempts: 4 },
        producer,
        deadLetterFor: (t) => `${t}.DLT`,
        wait: async (ms) => {
          waits.push(ms);
        },
      },
    );
    expect(calls).toBe(4);
    expect(waits).toEqual([10, 30, 90]);
    expect(outcome.status).toBe('dead-lettered');
    expect(producer.sent).toHaveLength(1);
    const dead = producer.sent[0]!;
    expect(dead.topic).toBe('orders.DLT');
    expect(dead.message.value).toEqual(received.value);
    expect(dead.message.headers[Headers.deadLetterOrigin]).toBe('orders');
    expect(dead.message.headers[Headers.deadLetterAttempts]).toBe('4');
    expect(dead.message.headers[Headers.deadLetterReason]).toBe('boom 4');
    expect(dead.message.headers[Headers.messageId]).toBe('m-7');
    expect(dead.message.headers[Headers.deadLetterOriginalId]).toBe(received.id);
    expect(retryHistoryOf(dead.message.headers).map((a) => a.delayMs)).toEqual([10, 30, 90, 0]);
  });

  it('stops retrying once the handler succeeds', async () => {
    const producer = new RecordingProducer();
    let calls = 0;
    const outcome = await handleWithRetry(
      received,
      async () => {
        if (++calls < 2) throw new Error('transient');
      },
      { policy: { initialDelayMs: 1, multiplier: 2, maxDelayMs: 10, jitter: 0, maxAttempts: 5 }, producer, deadLetterFor: (t) => t + '.dlq', wait: async () => {} },
    );
    expect(outcome).toEqual({ status: 'processed', attempts: 2 });
    expect(producer.sent).toHaveLength(0);
  });

  it('ignores a malformed history header', () => {
    expect(retryHistoryOf({ [Headers.retryHistory]: '{not json' })).toEqual([]);
    expect(retryHistoryOf({ [Headers.retryHistory]: '[{"attempt":"x"}]' })).toEqual([]);
  });
});
