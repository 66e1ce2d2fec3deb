import {
  ClientClosedError,
  InvalidInputError,
  isMailroomError,
  type MessageConsumer,
  type ReceivedMessage,
} from '@mailroom/core';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { toReceivedMessage } from './codec';
import { guarded, toMailroomError } from './errors';

export interface ConsumerSettings {
  group: string;
  maxMessages: number;
  operationTimeoutMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  validate: (topic: string) => void;
  /** Commits the current end offsets for partitions the group never committed, so it starts at "now". */
  positionNewGroup: (group: string, topics: string[]) => Promise<void>;
}

interface Buffered {
  key: string;
  offset: number;
  message: ReceivedMessage;
}

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * The pattern card's poll-based consumer over kafkajs's push-based `run`: kafkajs fills a
 * bounded buffer (pausing the topics when it is full) and `poll` drains it. `commit` commits
 * exactly the offsets `poll` returned (+1); nothing is committed automatically, so what was
 * polled but not committed is delivered again to the group after `close`.
 */
export class KafkaMessageConsumer implements MessageConsumer {
  private consumer: Consumer | null = null;
  private topics: string[] = [];
  private state: 'new' | 'subscribing' | 'running' | 'closed' = 'new';
  private buffer: Buffered[] = [];
  /** Highest offset returned by poll and not yet committed, per partition. */
  private readonly polled = new Map<string, { topic: string; partition: number; offset: number }>();
  /** Next offset not yet buffered, per partition: kafkajs re-fetches from the commit after a rebalance. */
  private readonly nextExpected = new Map<string, number>();
  private assigned = new Set<string>();
  private crash: unknown = null;
  private paused = false;
  private waiters: (() => void)[] = [];
  private joinWaiters: (() => void)[] = [];
  private readonly capacity: number;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: ConsumerSettings,
  ) {
    this.capacity = Math.max(settings.maxMessages * 5, 1000);
  }

  /** Read through a method: the state changes across awaits, which TypeScript's narrowing ignores. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private waitForWake(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.push(done);
    });
  }

  async subscribe(topics: string[]): Promise<void> {
    if (this.state === 'closed') throw new ClientClosedError('Kafka consumer');
    if (this.state !== 'new') throw new InvalidInputError('This consumer is already subscribed; create another consumer for other topics.');
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidInputError('subscribe needs at least one topic');
    for (const topic of topics) this.settings.validate(topic);
    this.state = 'subscribing';
    this.topics = [...new Set(topics)];
    const { group } = this.settings;
    try {
      await this.settings.positionNewGroup(group, this.topics);
      const consumer = this.kafka.consumer({
        groupId: group,
        sessionTimeout: this.settings.sessionTimeoutMs,
        rebalanceTimeout: Math.max(this.settings.sessionTimeoutMs, 10_000),
        heartbeatInterval: this.settings.heartbeatIntervalMs,
        maxWaitTimeInMs: 250,
        allowAutoTopicCreation: false,
        retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000, restartOnFailure: async () => false },
      });
      this.consumer = consumer;
      let joined: () => void = () => undefined;
      let failed: (error: unknown) => void = () => undefined;
      const joinedOnce = new Promise<void>((resolve, reject) => {
        joined = resolve;
        failed = reject;
      });
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        this.onAssignment(event.payload.memberAssignment);
        joined();
      });
      consumer.on(consumer.events.CRASH, (event) => {
        this.crash = event.payload.error;
        failed(event.payload.error);
        this.wake();
      });
      await guarded(`connecting consumer group ${group}`, this.settings.operationTimeoutMs, async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: this.topics, fromBeginning: false });
      });
      if (this.state !== 'subscribing') throw new ClientClosedError('Kafka consumer');
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.onBatch(payload),
      });
      // Joining waits for every member of the group to rejoin, so allow a rebalance's worth of time.
      await guarded(`joining consumer group ${group}`, this.settings.sessionTimeoutMs + this.settings.operationTimeoutMs, () => joinedOnce);
      if (this.state !== 'subscribing') throw new ClientClosedError('Kafka consumer');
      this.state = 'running';
    } catch (error) {
      if (this.state === 'subscribing') {
        this.state = 'closed';
        await this.consumer?.disconnect().catch(() => undefined);
      }
      throw toMailroomError(error, `subscribing group ${group} to ${this.topics.join(', ')}`);
    }
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    const next = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) for (const p of partitions) next.add(partitionKey(topic, p));
    // Revoked partitions now belong to another member, which resumes from the last commit.
    this.buffer = this.buffer.filter((b) => next.has(b.key));
    for (const key of [...this.polled.keys()]) if (!next.has(key)) this.polled.delete(key);
    for (const key of [...this.nextExpected.keys()]) if (!next.has(key)) this.nextExpected.delete(key);
    this.assigned = next;
    const joined = this.joinWaiters;
    this.joinWaiters = [];
    for (const w of joined) w();
  }

  private waitForJoin(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.joinWaiters = this.joinWaiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.joinWaiters.push(done);
    });
  }

  private async onBatch({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const key = partitionKey(batch.topic, batch.partition);
    for (const m of batch.messages) {
      if (!isRunning() || isStale() || this.state === 'closed') break;
      const offset = Number(m.offset);
      if (offset >= (this.nextExpected.get(key) ?? -1)) {
        this.buffer.push({ key, offset, message: toReceivedMessage(batch.topic, batch.partition, m) });
        this.nextExpected.set(key, offset + 1);
      }
      resolveOffset(m.offset);
    }
    this.wake();
    if (this.buffer.length >= this.capacity && !this.paused && this.consumer) {
      this.paused = true;
      this.consumer.pause(this.topics.map((topic) => ({ topic })));
    }
  }

  async poll(timeoutMs: number): Promise<ReceivedMessage[]> {
    if (this.state === 'closed') throw new ClientClosedError('Kafka consumer');
    if (this.state !== 'running') throw new InvalidInputError('Call subscribe() before poll()');
    if (this.buffer.length === 0 && this.crash === null) await this.waitForWake(Math.max(0, timeoutMs));
    if (this.isClosed()) throw new ClientClosedError('Kafka consumer');
    if (this.buffer.length === 0 && this.crash !== null) throw toMailroomError(this.crash, `consuming for group ${this.settings.group}`);
    const taken = this.buffer.splice(0, this.settings.maxMessages);
    for (const b of taken) {
      const current = this.polled.get(b.key);
      if (!current || current.offset < b.offset) {
        this.polled.set(b.key, { topic: b.message.topic, partition: b.message.partition ?? 0, offset: b.offset });
      }
    }
    if (this.paused && this.buffer.length < this.capacity / 2 && this.consumer) {
      this.paused = false;
      this.consumer.resume(this.topics.map((topic) => ({ topic })));
    }
    return taken.map((b) => b.message);
  }

  async commit(): Promise<void> {
    if (this.state === 'closed') throw new ClientClosedError('Kafka consumer');
    if (this.state !== 'running' || !this.consumer) return;
    const consumer = this.consumer;
    const attempt = async () => {
      const snapshot = [...this.polled].filter(([key]) => this.assigned.has(key));
      if (snapshot.length === 0) return;
      await guarded(`committing offsets of group ${this.settings.group}`, this.settings.operationTimeoutMs, () =>
        consumer.commitOffsets(snapshot.map(([, p]) => ({ topic: p.topic, partition: p.partition, offset: String(p.offset + 1) }))),
      );
      for (const [key, p] of snapshot) if (this.polled.get(key)?.offset === p.offset) this.polled.delete(key);
    };
    try {
      await attempt();
    } catch (error) {
      // A rebalance in progress refuses commits; retry once this member has rejoined, for the
      // partitions it still owns (the others' new owner redelivers them: at-least-once).
      if (!isMailroomError(error) || error.code !== 'CONFLICT') throw error;
      await this.waitForJoin(this.settings.sessionTimeoutMs);
      await attempt();
    }
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.wake();
    this.buffer = [];
    this.polled.clear();
    const consumer = this.consumer;
    this.consumer = null;
    if (consumer) {
      await guarded(`leaving consumer group ${this.settings.group}`, this.settings.operationTimeoutMs, () => consumer.disconnect()).catch(() => undefined);
    }
  }
}
