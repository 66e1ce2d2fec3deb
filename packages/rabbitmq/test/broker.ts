import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { resolveConfig } from '../src/config';
import { ManagementClient } from '../src/management';
import { testConfig } from './env';

const run = promisify(execFile);

/** Raw access to the broker for arranging and checking tests, independent of the adapter. */
export class Broker {
  readonly management = new ManagementClient(resolveConfig(testConfig()));
  private connection: ChannelModel | null = null;
  private readonly queues = new Set<string>();
  private readonly exchanges = new Set<string>();
  private readonly policies = new Set<string>();

  async channel(): Promise<Channel> {
    this.connection ??= await amqp.connect(testConfig().url, { clientProperties: { connection_name: 'mailroom-test/arrange' } });
    const channel = await this.connection.createChannel();
    channel.on('error', () => undefined);
    return channel;
  }

  async queue(name: string, args: Record<string, unknown> = {}): Promise<string> {
    const ch = await this.channel();
    await ch.assertQueue(name, { durable: true, arguments: args });
    await ch.close();
    this.queues.add(name);
    return name;
  }

  async exchange(name: string, type: string): Promise<string> {
    const ch = await this.channel();
    await ch.assertExchange(name, type, { durable: true });
    await ch.close();
    this.exchanges.add(name);
    return name;
  }

  async bind(queue: string, exchange: string, key: string): Promise<void> {
    const ch = await this.channel();
    await ch.bindQueue(queue, exchange, key);
    await ch.close();
  }

  async policy(name: string, pattern: string, definition: Record<string, unknown>): Promise<void> {
    await this.management.putPolicy(name, { pattern, 'apply-to': 'queues', priority: 10, definition });
    this.policies.add(name);
  }

  /** A confirm channel on the arranging connection; the caller closes it. */
  async confirmChannel(): Promise<ConfirmChannel> {
    this.connection ??= await amqp.connect(testConfig().url, { clientProperties: { connection_name: 'mailroom-test/arrange' } });
    const channel = await this.connection.createConfirmChannel();
    channel.on('error', () => undefined);
    return channel;
  }

  /** Publishes with confirms straight to a queue (default exchange). */
  async sendToQueue(queue: string, bodies: { body: Buffer; messageId?: string; headers?: Record<string, unknown> }[]): Promise<void> {
    this.connection ??= await amqp.connect(testConfig().url, { clientProperties: { connection_name: 'mailroom-test/arrange' } });
    const ch = await this.connection.createConfirmChannel();
    for (const b of bodies) {
      const options = { persistent: true, headers: b.headers ?? {}, ...(b.messageId === undefined ? {} : { messageId: b.messageId }) };
      if (!ch.sendToQueue(queue, b.body, options)) await new Promise((r) => ch.once('drain', r));
    }
    await ch.waitForConfirms();
    await ch.close();
  }

  /** Rejects (requeue=false) every message of `queue`, so its DLX dead-letters them with x-death reason 'rejected'. */
  async rejectAll(queue: string, expected: number): Promise<void> {
    const ch = await this.channel();
    let seen = 0;
    while (seen < expected) {
      const got = await ch.get(queue, { noAck: false });
      if (got === false) break;
      seen++;
      if (seen % 500 === 0 || seen === expected) ch.nack(got, true, false);
    }
    await ch.close();
  }

  /** Takes every message off a queue (ack), returning them in order; with `requeue` they are put back (in order, marked redelivered) instead. */
  async drain(queue: string, { requeue = false } = {}): Promise<{ messageId: string | undefined; body: Buffer; headers: Record<string, unknown>; redelivered: boolean }[]> {
    const ch = await this.channel();
    const out: { messageId: string | undefined; body: Buffer; headers: Record<string, unknown>; redelivered: boolean }[] = [];
    await ch.prefetch(1000);
    for (;;) {
      // Closing the channel requeues whatever it got without acking.
      const got = await ch.get(queue, { noAck: !requeue });
      if (got === false) break;
      out.push({ messageId: got.properties.messageId as string | undefined, body: got.content, headers: got.properties.headers ?? {}, redelivered: got.fields.redelivered });
    }
    await ch.close();
    return out;
  }

  /** What `rabbitmqctl list_queues name messages_ready messages_unacknowledged` reports for `queue`. */
  async ctlCounts(queue: string): Promise<{ ready: number; unacked: number } | null> {
    const { stdout } = await run('rabbitmqctl', ['list_queues', '-q', '--no-table-headers', 'name', 'messages_ready', 'messages_unacknowledged'], { timeout: 60_000 });
    for (const line of stdout.split('\n')) {
      const parts = line.trim().split(/\t/);
      if (parts[0] === queue && parts.length >= 3) return { ready: Number(parts[1]), unacked: Number(parts[2]) };
    }
    return null;
  }

  /** Polls rabbitmqctl until it reports `expected` (quorum queue counts reach it with a delay; later on a loaded machine). */
  async ctlCountsSettled(queue: string, expected: { ready: number; unacked: number }, deadlineMs = 45_000): Promise<{ ready: number; unacked: number } | null> {
    const deadline = Date.now() + deadlineMs;
    let counts = await this.ctlCounts(queue);
    while ((counts?.ready !== expected.ready || counts.unacked !== expected.unacked) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      counts = await this.ctlCounts(queue);
    }
    return counts;
  }

  /**
   * Process ids of the connections whose connection_name starts with `prefix`, as the broker's
   * connection processes say now (rabbitmqctl: the management API's list lags by its statistics interval).
   */
  async ctlConnectionsNamed(prefix: string): Promise<string[]> {
    const { stdout } = await run('rabbitmqctl', ['list_connections', '-q', '--no-table-headers', 'pid', 'client_properties'], { timeout: 60_000 });
    const pids: string[] = [];
    for (const line of stdout.split('\n')) {
      const [pid, properties] = line.split('\t');
      const name = /\{"connection_name","([^"]*)"\}/.exec(properties ?? '')?.[1];
      if (pid !== undefined && name?.startsWith(prefix)) pids.push(pid);
    }
    return pids;
  }

  /**
   * Consumers on the channels of connections whose connection_name starts with `prefix`, counted
   * by the channel processes now: exact for every queue type (a stream's declare-ok always says 0).
   */
  async ctlConsumersOn(prefix: string): Promise<number> {
    const pids = new Set(await this.ctlConnectionsNamed(prefix));
    if (pids.size === 0) return 0;
    const { stdout } = await run('rabbitmqctl', ['list_channels', '-q', '--no-table-headers', 'connection', 'consumer_count'], { timeout: 60_000 });
    let consumers = 0;
    for (const line of stdout.split('\n')) {
      const [pid, count] = line.split('\t');
      if (pid !== undefined && pids.has(pid)) consumers += Number(count);
    }
    return consumers;
  }

  /** Management names of the client connections whose connection_name starts with `prefix` (listed once the statistics caught up). */
  async connectionsNamed(prefix: string): Promise<string[]> {
    const connections = await this.management.connections();
    return connections.filter((c) => c.client_properties?.connection_name?.startsWith(prefix)).map((c) => c.name);
  }

  track(kind: 'queue' | 'exchange', name: string): void {
    (kind === 'queue' ? this.queues : this.exchanges).add(name);
  }

  async cleanup(): Promise<void> {
    for (const name of this.policies) await this.management.deletePolicy(name).catch(() => undefined);
    if (this.queues.size > 0 || this.exchanges.size > 0) {
      const ch = await this.channel();
      for (const name of this.queues) {
        await ch.deleteQueue(name).catch(() => undefined);
      }
      for (const name of this.exchanges) await ch.deleteExchange(name).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
    await this.connection?.close().catch(() => undefined);
    this.connection = null;
  }
}
