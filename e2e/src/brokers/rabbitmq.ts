import { createRabbitMqAdapter } from '@mailroom/rabbitmq';
import amqp, { type ChannelModel, type ConfirmChannel, type GetMessage } from 'amqplib';
import { RABBITMQ_MANAGEMENT_URL, RABBITMQ_URL, runId } from '../env';
import { eventually, type BrokerKit, type DeadLetterRemedy, type LaggingGroup, type NativeMessage } from './kit';

/** Headers the adapter adds on the wire and strips on read (its codec's WireHeaders). */
const WIRE_KEY = 'x-mailroom-key';
const WIRE_TIMESTAMP = 'x-mailroom-timestamp-ms';

function managementAuth(): string {
  const amqpUrl = new URL(RABBITMQ_URL);
  const mgmt = new URL(RABBITMQ_MANAGEMENT_URL);
  const user = decodeURIComponent(mgmt.username || amqpUrl.username || 'guest');
  const pass = decodeURIComponent(mgmt.password || amqpUrl.password || 'guest');
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

/**
 * RabbitMQ through amqplib 2.3.1 and the management HTTP API. A destination is what the adapter
 * calls a topic: a durable topic exchange plus a same-named queue bound with `#`.
 */
export class RabbitMqKit implements BrokerKit {
  private connection: ChannelModel | null = null;
  private channel: ConfirmChannel | null = null;
  private readonly queues = new Set<string>();
  private readonly exchanges = new Set<string>();
  private readonly policies = new Set<string>();
  /** Consumers left running until dispose(), each with its own adapter. */
  private readonly running: { close(): Promise<void> }[] = [];

  readonly keepsConsumedMessages = false;

  /** RabbitMQ records why it dead-lettered (x-death reason) and how often; a reject is one death. */
  deadLetterFacts(): { reason: string; attempts: number } {
    return { reason: 'rejected', attempts: 1 };
  }

  name(label: string): string {
    return `${runId()}-rabbitmq-${label}`;
  }

  private async ch(): Promise<ConfirmChannel> {
    if (!this.channel) {
      this.connection = await amqp.connect(RABBITMQ_URL);
      this.channel = await this.connection.createConfirmChannel();
    }
    return this.channel;
  }

  async createDestination(name: string, queueArguments: Record<string, unknown> = {}): Promise<void> {
    const ch = await this.ch();
    this.exchanges.add(name);
    this.queues.add(name);
    await ch.assertExchange(name, 'topic', { durable: true });
    await ch.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'classic', ...queueArguments } });
    await ch.bindQueue(name, name, '#');
  }

  /** The broker's own dead-lettering: the queue's x-dead-letter-exchange sends rejected messages to `<name>.dlq`. */
  async createDestinationWithDeadLetters(name: string): Promise<string> {
    const dlq = `${name}.dlq`;
    const ch = await this.ch();
    this.queues.add(dlq);
    await ch.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    await this.createDestination(name, { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    return dlq;
  }

  async publish(destination: string, message: NativeMessage, messageId?: string): Promise<void> {
    const ch = await this.ch();
    ch.publish(destination, message.key ?? '', message.value, { persistent: true, headers: { ...message.headers }, ...(messageId ? { messageId } : {}) });
    await ch.waitForConfirms();
  }

  private decode(m: GetMessage): NativeMessage {
    const raw = (m.properties.headers ?? {}) as Record<string, unknown>;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (k === WIRE_KEY || k === WIRE_TIMESTAMP || k === 'x-death' || k.startsWith('x-first-death') || k.startsWith('x-last-death')) continue;
      headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    }
    const key = raw[WIRE_KEY];
    return { key: key === undefined ? null : Buffer.isBuffer(key) ? key.toString('utf8') : String(key), value: m.content, headers };
  }

  /** Gets every ready message without acking, then closes the channel so the broker requeues them all. */
  async readAll(destination: string): Promise<NativeMessage[]> {
    const connection = await amqp.connect(RABBITMQ_URL);
    try {
      const ch = await connection.createChannel();
      const out: NativeMessage[] = [];
      for (;;) {
        const m = await ch.get(destination, { noAck: false });
        if (m === false) break;
        out.push(this.decode(m));
      }
      await ch.close();
      return out;
    } finally {
      await connection.close();
    }
  }

  /** Publishes, then a consumer rejects each message without requeue: RabbitMQ dead-letters it (x-death reason "rejected"). */
  async failIntoDeadLetters(destination: string, messages: NativeMessage[]): Promise<void> {
    let n = 0;
    for (const m of messages) await this.publish(destination, m, `${runId()}-dl-${++n}`);
    const connection = await amqp.connect(RABBITMQ_URL);
    try {
      const ch = await connection.createChannel();
      let rejected = 0;
      await eventually('every message rejected', 30_000, async () => {
        for (;;) {
          const m = await ch.get(destination, { noAck: false });
          if (m === false) break;
          ch.nack(m, false, false);
          rejected++;
        }
        return rejected >= messages.length;
      });
      const dlq = `${destination}.dlq`;
      await eventually(`${messages.length} messages in ${dlq}`, 10_000, async () => (await ch.checkQueue(dlq)).messageCount >= messages.length);
      await ch.close();
    } finally {
      await connection.close();
    }
  }

  /** Ready messages, from the broker over AMQP (exact now, unlike the management statistics). */
  async depth(destination: string): Promise<number> {
    return (await (await this.ch()).checkQueue(destination)).messageCount;
  }

  private managementPath(path: string): string {
    const vhost = encodeURIComponent(decodeURIComponent(new URL(RABBITMQ_URL).pathname.replace(/^\//, '')) || '/');
    return `${RABBITMQ_MANAGEMENT_URL.replace(/\/+$/, '')}/api/${path.replace('{vhost}', vhost)}`;
  }

  private async managementQueue(name: string): Promise<{ messages_ready?: number; messages_unacknowledged?: number }> {
    const response = await fetch(this.managementPath(`queues/{vhost}/${encodeURIComponent(name)}`), { headers: { authorization: managementAuth() } });
    if (!response.ok) throw new Error(`management API: ${response.status} for queue ${name}`);
    return (await response.json()) as { messages_ready?: number; messages_unacknowledged?: number };
  }

  /** A Mailroom consumer group: the durable queue `<destination>::<group>` bound to the exchange, made by the adapter's consumer. */
  private async makeGroup(destination: string, group: string): Promise<string> {
    const adapter = createRabbitMqAdapter({ url: RABBITMQ_URL, managementUrl: RABBITMQ_MANAGEMENT_URL, connectionName: 'mailroom-e2e-worker' });
    const consumer = adapter.createConsumer({ group });
    await consumer.subscribe([destination]);
    await consumer.close();
    await adapter.close();
    const groupQueue = `${destination}::${group}`;
    this.queues.add(groupQueue);
    return groupQueue;
  }

  /** A Mailroom consumer group that is 4 behind. */
  async makeLaggingGroup(destination: string): Promise<LaggingGroup> {
    const group = 'e2e-lagging';
    const groupQueue = await this.makeGroup(destination, group);
    for (let i = 1; i <= 7; i++) await this.publish(destination, { key: `lag-${i}`, value: Buffer.from(`lag ${i}`), headers: {} });
    const ch = await this.ch();
    for (let i = 0; i < 3; i++) {
      const m = await ch.get(groupQueue, { noAck: false });
      if (m === false) throw new Error(`${groupQueue} has fewer than 3 messages`);
      ch.ack(m);
    }
    await eventually(`${groupQueue} at 4 ready`, 10_000, async () => (await ch.checkQueue(groupQueue)).messageCount === 4);
    return { group, lag: await this.lagOf(group, destination), pending: 0 };
  }

  /** The group queue's ready count as the management API reports it, once it agrees with the broker's exact AMQP count. */
  async lagOf(group: string, destination: string): Promise<number> {
    const groupQueue = `${destination}::${group}`;
    const exact = (await (await this.ch()).checkQueue(groupQueue)).messageCount;
    let reported = -1;
    await eventually(`management statistics of ${groupQueue} to catch up`, 20_000, async () => {
      reported = (await this.managementQueue(groupQueue)).messages_ready ?? -1;
      return reported === exact;
    }, 500);
    return reported;
  }

  /**
   * A group consumer that keeps running (until dispose): the fitness page judges a group queue
   * `T::G` by its consumers, so a group whose consumers are all gone leaves `T::G` "not applicable".
   */
  async consumeWithGroup(destination: string): Promise<string> {
    const group = 'e2e-fitness-workers';
    const adapter = createRabbitMqAdapter({ url: RABBITMQ_URL, managementUrl: RABBITMQ_MANAGEMENT_URL, connectionName: 'mailroom-e2e-worker' });
    const consumer = adapter.createConsumer({ group });
    this.running.push({ close: async () => { await consumer.close(); await adapter.close(); } });
    await consumer.subscribe([destination]);
    this.queues.add(`${destination}::${group}`);
    return group;
  }

  /**
   * The fix asks for a dead-letter exchange bound to a queue: the form creates `<name>.dlq` (a topic
   * exchange and a queue bound with `#`), a policy through the management API makes it the
   * dead-letter exchange of the topic's queue and of its group queue (one pattern, `^T(::.*)?$`).
   */
  deadLetterRemedy(destination: string, group: string | null): DeadLetterRemedy {
    const dlx = `${destination}.dlq`;
    const policy = `${destination}-dead-letters`;
    const pattern = `^${destination.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(::.*)?$`;
    return {
      fixNames: `queue ${destination} has no dead-letter exchange: set x-dead-letter-exchange`,
      judged: group === null ? [destination] : [destination, `${destination}::${group}`],
      create: dlx,
      via: `policy ${policy}`,
      configure: async () => {
        this.policies.add(policy);
        const response = await fetch(this.managementPath(`policies/{vhost}/${encodeURIComponent(policy)}`), {
          method: 'PUT',
          headers: { authorization: managementAuth(), 'content-type': 'application/json' },
          body: JSON.stringify({ pattern, 'apply-to': 'queues', priority: 100, definition: { 'dead-letter-exchange': dlx } }),
        });
        if (!response.ok) throw new Error(`management API: ${response.status} setting policy ${policy}: ${await response.text()}`);
      },
    };
  }

  adopt(name: string): void {
    this.exchanges.add(name);
    this.queues.add(name);
  }

  async dispose(): Promise<void> {
    for (const consumer of this.running.splice(0)) await consumer.close().catch(() => undefined);
    for (const policy of this.policies) {
      await fetch(this.managementPath(`policies/{vhost}/${encodeURIComponent(policy)}`), { method: 'DELETE', headers: { authorization: managementAuth() } }).catch(() => undefined);
    }
    const ch = await this.ch();
    for (const q of this.queues) await ch.deleteQueue(q).catch(() => undefined);
    for (const e of this.exchanges) await ch.deleteExchange(e).catch(() => undefined);
    await this.connection?.close();
  }
}
