import { pollWithRetry } from '@mailroom/core';
import { createRedisAdapter } from '@mailroom/redis';
import { Redis } from 'ioredis';
import { REDIS_URL, runId } from '../env';
import { alwaysFail, failureReason, FAILING_POLICY, type BrokerKit, type DeadLetterRemedy, type LaggingGroup, type NativeMessage } from './kit';

/**
 * Redis Streams through ioredis 6.0.0. The adapter's entry layout (its README): fields `key`
 * (absent when null), `timestamp`, `h:<name>` per header, `value` last.
 */
export class RedisKit implements BrokerKit {
  private readonly redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
  private readonly keys = new Set<string>();

  readonly keepsConsumedMessages = true;

  deadLetterFacts(key: string): { reason: string; attempts: number } {
    return { reason: failureReason(key), attempts: FAILING_POLICY.maxAttempts };
  }

  name(label: string): string {
    return `${runId()}-redis-${label}`;
  }

  async createDestination(name: string): Promise<void> {
    this.keys.add(name);
    // A stream exists once it has an entry or a group; an empty stream with a group keeps no data.
    await this.redis.xgroup('CREATE', name, `${runId()}-placeholder`, '$', 'MKSTREAM');
    await this.redis.xgroup('DESTROY', name, `${runId()}-placeholder`);
  }

  async createDestinationWithDeadLetters(name: string): Promise<string> {
    const dlq = `${name}:dlq`;
    await this.createDestination(name);
    await this.createDestination(dlq);
    return dlq;
  }

  async publish(destination: string, message: NativeMessage): Promise<void> {
    this.keys.add(destination);
    const fields: (string | Buffer)[] = [];
    if (message.key !== null) fields.push('key', message.key);
    fields.push('timestamp', String(Date.now()));
    for (const [k, v] of Object.entries(message.headers)) fields.push(`h:${k}`, v);
    fields.push('value', message.value);
    await this.redis.xadd(destination, '*', ...fields);
  }

  async readAll(destination: string): Promise<NativeMessage[]> {
    const entries = await this.redis.xrangeBuffer(destination, '-', '+');
    return entries.map(([, raw]) => {
      const out: NativeMessage = { key: null, value: Buffer.alloc(0), headers: {} };
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const field = raw[i]!.toString('utf8');
        const value = raw[i + 1]!;
        if (field === 'key') out.key = value.toString('utf8');
        else if (field === 'value') out.value = value;
        else if (field.startsWith('h:')) out.headers[field.slice(2)] = value.toString('utf8');
      }
      return out;
    });
  }

  async failIntoDeadLetters(destination: string, messages: NativeMessage[]): Promise<void> {
    const adapter = createRedisAdapter({ url: REDIS_URL, connectionName: 'mailroom-e2e-worker' });
    const consumer = adapter.createConsumer({ group: `${runId()}-worker`, maxMessages: 50 });
    const producer = adapter.createProducer();
    try {
      await consumer.subscribe([destination]);
      for (const m of messages) await this.publish(destination, m);
      let deadLettered = 0;
      const deadline = Date.now() + 60_000;
      while (deadLettered < messages.length) {
        if (Date.now() > deadline) throw new Error(`Only ${deadLettered} of ${messages.length} messages were dead-lettered`);
        const stats = await pollWithRetry(consumer, alwaysFail, { policy: FAILING_POLICY, producer, deadLetterFor: (t) => adapter.deadLetterNameFor(t), pollTimeoutMs: 500 });
        deadLettered += stats.deadLettered;
      }
    } finally {
      await consumer.close();
      await producer.close();
      await adapter.close();
    }
  }

  async depth(destination: string): Promise<number> {
    return this.redis.xlen(destination);
  }

  async makeLaggingGroup(destination: string): Promise<LaggingGroup> {
    for (let i = 1; i <= 7; i++) await this.publish(destination, { key: `lag-${i}`, value: Buffer.from(`lag ${i}`), headers: {} });
    const group = `${runId()}-lagging`;
    await this.redis.xgroup('CREATE', destination, group, '0');
    // Three delivered, two of them acknowledged: lag 4, one pending.
    const read = (await this.redis.xreadgroup('GROUP', group, 'e2e-member', 'COUNT', 3, 'STREAMS', destination, '>')) as [string, [string, string[]][]][] | null;
    const ids = read?.[0]?.[1].map(([id]) => id) ?? [];
    await this.redis.xack(destination, group, ...ids.slice(0, 2));
    const info = await this.groupInfo(group, destination);
    return { group, lag: info.lag, pending: info.pending };
  }

  private async groupInfo(group: string, destination: string): Promise<{ lag: number; pending: number }> {
    const groups = (await this.redis.xinfo('GROUPS', destination)) as (string | number | null)[][];
    for (const fields of groups) {
      const map = new Map<string, string | number | null>();
      for (let i = 0; i + 1 < fields.length; i += 2) map.set(String(fields[i]), fields[i + 1] ?? null);
      if (map.get('name') === group) return { lag: Number(map.get('lag')), pending: Number(map.get('pending')) };
    }
    throw new Error(`XINFO GROUPS ${destination} has no group ${group}`);
  }

  async consumeWithGroup(destination: string): Promise<string> {
    const group = `${runId()}-fitness-workers`;
    await this.redis.xgroup('CREATE', destination, group, '0');
    return group;
  }

  /** No fitness hint: the fix names the conventional `<stream>:dlq`, which the form creates. */
  deadLetterRemedy(destination: string): DeadLetterRemedy {
    return { fixNames: `create ${destination}:dlq`, judged: [destination], create: `${destination}:dlq`, via: null, configure: null };
  }

  adopt(name: string): void {
    this.keys.add(name);
  }

  /** XINFO GROUPS' own `lag` field. */
  async lagOf(group: string, destination: string): Promise<number> {
    return (await this.groupInfo(group, destination)).lag;
  }

  async dispose(): Promise<void> {
    if (this.keys.size > 0) await this.redis.del(...this.keys);
    this.redis.disconnect();
  }
}
