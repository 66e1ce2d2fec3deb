import { createKafkaAdapter } from '@mailroom/kafka';
import { pollWithRetry } from '@mailroom/core';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { KAFKA_BROKERS, runId } from '../env';
import { alwaysFail, failureReason, eventually, FAILING_POLICY, type BrokerKit, type DeadLetterRemedy, type LaggingGroup, type NativeMessage } from './kit';

/** Kafka through kafkajs 2.2.4 (the version the adapter pins), 1-partition topics. */
export class KafkaKit implements BrokerKit {
  private readonly kafka = new Kafka({ clientId: 'mailroom-e2e-native', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  private adminClient: Admin | null = null;
  private producerClient: Producer | null = null;
  private readonly topics = new Set<string>();
  private readonly groups = new Set<string>();
  private seq = 0;

  readonly keepsConsumedMessages = true;

  deadLetterFacts(key: string): { reason: string; attempts: number } {
    return { reason: failureReason(key), attempts: FAILING_POLICY.maxAttempts };
  }

  name(label: string): string {
    return `${runId()}-kafka-${label}`;
  }

  private async admin(): Promise<Admin> {
    if (!this.adminClient) {
      this.adminClient = this.kafka.admin();
      await this.adminClient.connect();
    }
    return this.adminClient;
  }

  private async producer(): Promise<Producer> {
    if (!this.producerClient) {
      this.producerClient = this.kafka.producer({ allowAutoTopicCreation: false });
      await this.producerClient.connect();
    }
    return this.producerClient;
  }

  async createDestination(name: string): Promise<void> {
    this.topics.add(name);
    await (await this.admin()).createTopics({ topics: [{ topic: name, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  }

  async createDestinationWithDeadLetters(name: string): Promise<string> {
    // The adapter finds DLQs by naming convention ({topic}.DLT first) and by origin headers.
    const dlq = `${name}.DLT`;
    await this.createDestination(name);
    await this.createDestination(dlq);
    return dlq;
  }

  async publish(destination: string, message: NativeMessage): Promise<void> {
    const headers = Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
    await (await this.producer()).send({ topic: destination, acks: -1, messages: [{ key: message.key, value: message.value, headers }] });
  }

  /** Reads the topic from the beginning with a throwaway group (deleted afterwards). */
  async readAll(destination: string): Promise<NativeMessage[]> {
    const admin = await this.admin();
    const marks = await admin.fetchTopicOffsets(destination);
    const wanted = new Map(marks.filter((m) => Number(m.high) > Number(m.low)).map((m) => [m.partition, Number(m.high)]));
    if (wanted.size === 0) return [];
    const groupId = `${runId()}-reader-${++this.seq}`;
    this.groups.add(groupId);
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const out: NativeMessage[] = [];
    const reached = new Map<number, number>();
    let lastMessageAt = 0;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [destination], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) {
            const last = Array.isArray(v) ? v[v.length - 1] : v;
            if (last !== undefined) headers[k] = last.toString('utf8');
          }
          out.push({ key: message.key === null ? null : message.key.toString('utf8'), value: message.value ?? Buffer.alloc(0), headers });
          reached.set(partition, Number(message.offset) + 1);
          lastMessageAt = Date.now();
        },
      });
      // Transaction markers (redrive writes transactionally) take offsets no record has: stop
      // when every partition reached its high watermark, or nothing came for a while after data did.
      await eventually(`reading ${destination} to its end`, 30_000, async () => {
        if ([...wanted].every(([p, high]) => (reached.get(p) ?? 0) >= high)) return true;
        return lastMessageAt > 0 && Date.now() - lastMessageAt > 2_000;
      }, 100);
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      this.groups.delete(groupId);
    }
    return out;
  }

  async failIntoDeadLetters(destination: string, messages: NativeMessage[]): Promise<void> {
    const adapter = createKafkaAdapter({ brokers: KAFKA_BROKERS, clientId: 'mailroom-e2e-worker' });
    const group = `${runId()}-worker-${++this.seq}`;
    this.groups.add(group);
    const consumer = adapter.createConsumer({ group, maxMessages: 50 });
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
    const marks = await (await this.admin()).fetchTopicOffsets(destination);
    return marks.reduce((n, m) => n + Number(m.high) - Number(m.low), 0);
  }

  async makeLaggingGroup(destination: string): Promise<LaggingGroup> {
    for (let i = 1; i <= 7; i++) await this.publish(destination, { key: `lag-${i}`, value: Buffer.from(`lag ${i}`), headers: {} });
    const group = `${runId()}-lagging`;
    this.groups.add(group);
    // An empty group with a committed offset: 3 of 7 consumed.
    await (await this.admin()).setOffsets({ groupId: group, topic: destination, partitions: [{ partition: 0, offset: '3' }] });
    return { group, lag: await this.lagOf(group, destination), pending: null };
  }

  /** A group with a committed position on the topic (nothing to read yet). */
  async consumeWithGroup(destination: string): Promise<string> {
    const group = `${runId()}-fitness-workers`;
    this.groups.add(group);
    await (await this.admin()).setOffsets({ groupId: group, topic: destination, partitions: [{ partition: 0, offset: '0' }] });
    return group;
  }

  /** No fitness hint: the fix names the conventional DLT, which the form creates. */
  deadLetterRemedy(destination: string): DeadLetterRemedy {
    return { fixNames: `create ${destination}.DLT`, judged: [destination], create: `${destination}.DLT`, via: null, configure: null };
  }

  adopt(name: string): void {
    this.topics.add(name);
  }

  /** What kafka-consumer-groups.sh prints as LAG: high watermark minus committed offset, summed. */
  async lagOf(group: string, destination: string): Promise<number> {
    const admin = await this.admin();
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [destination] });
    const marks = await admin.fetchTopicOffsets(destination);
    let lag = 0;
    for (const p of committed?.partitions ?? []) {
      const high = Number(marks.find((m) => m.partition === p.partition)?.high ?? 0);
      if (Number(p.offset) >= 0) lag += high - Number(p.offset);
    }
    return lag;
  }

  async dispose(): Promise<void> {
    const admin = await this.admin();
    if (this.groups.size > 0) await admin.deleteGroups([...this.groups]).catch(() => undefined);
    if (this.topics.size > 0) await admin.deleteTopics({ topics: [...this.topics] }).catch(() => undefined);
    await this.producerClient?.disconnect();
    await admin.disconnect();
  }
}
