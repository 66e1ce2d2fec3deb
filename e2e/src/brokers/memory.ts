import { handleWithRetry, type Message, type MessageProducer, type ReceivedMessage } from '@mailroom/core';
import type { ServerApi } from '../api';
import { CONNECTIONS, runId } from '../env';
import { alwaysFail, failureReason, FAILING_POLICY, type BrokerKit, type DeadLetterRemedy, type LaggingGroup, type NativeMessage } from './kit';

const connectionId = CONNECTIONS.memory.id;

/**
 * The embedded broker lives inside the server process, so its "own client" is the server API.
 * Its DLQ convention is `<name>.dlq`.
 */
export class MemoryKit implements BrokerKit {
  private readonly destinations = new Set<string>();

  constructor(private readonly api: ServerApi) {}

  readonly keepsConsumedMessages = true;

  deadLetterFacts(key: string): { reason: string; attempts: number } {
    return { reason: failureReason(key), attempts: FAILING_POLICY.maxAttempts };
  }

  name(label: string): string {
    return `${runId()}-memory-${label}`;
  }

  async createDestination(name: string): Promise<void> {
    this.destinations.add(name);
    await this.api.destinations.create.mutate({ connectionId, name, partitions: 1 });
  }

  async createDestinationWithDeadLetters(name: string): Promise<string> {
    const dlq = `${name}.dlq`;
    await this.createDestination(name);
    await this.createDestination(dlq);
    return dlq;
  }

  async publish(destination: string, message: NativeMessage): Promise<void> {
    await this.api.messages.publish.mutate({
      connectionId,
      destination,
      messages: [{ key: message.key, headers: message.headers, value: { encoding: 'base64', data: message.value.toString('base64') } }],
    });
  }

  private async browseAll(destination: string): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.api.messages.browse.query({ connectionId, destination, start: { from: 'oldest' }, limit: 500, ...(cursor ? { cursor } : {}) });
      for (const m of page.messages) {
        out.push({ topic: destination, id: m.id, partition: m.partition, deliveryCount: m.deliveryCount, key: m.key, value: Buffer.from(m.valueBase64, 'base64'), headers: m.headers, timestamp: new Date(m.timestamp) });
      }
      cursor = page.nextCursor;
    } while (cursor !== null);
    return out;
  }

  async readAll(destination: string): Promise<NativeMessage[]> {
    return (await this.browseAll(destination)).map((m) => ({ key: m.key, value: Buffer.from(m.value), headers: m.headers }));
  }

  /**
   * A consumer outside the server: it reads the destination through the server API and runs
   * core's handleWithRetry, whose dead letters go to `<name>.dlq` through the same API.
   */
  async failIntoDeadLetters(destination: string, messages: NativeMessage[]): Promise<void> {
    for (const m of messages) await this.publish(destination, m);
    const producer: MessageProducer = {
      send: async (topic: string, m: Message) => {
        await this.api.messages.publish.mutate({ connectionId, destination: topic, messages: [{ key: m.key, headers: m.headers, value: { encoding: 'base64', data: Buffer.from(m.value).toString('base64') } }] });
      },
      sendBatch: async (topic: string, ms: Message[]) => {
        for (const m of ms) await producer.send(topic, m);
      },
      close: async () => undefined,
    };
    for (const received of await this.browseAll(destination)) {
      const outcome = await handleWithRetry(received, alwaysFail, { policy: FAILING_POLICY, producer, deadLetterFor: (t) => `${t}.dlq` });
      if (outcome.status !== 'dead-lettered') throw new Error(`${received.id} was not dead-lettered`);
    }
  }

  async depth(destination: string): Promise<number> {
    return (await this.api.destinations.describe.query({ connectionId, name: destination })).depth ?? -1;
  }

  /**
   * A group with no consumers: an offset reset names it and creates its positions at the end of the
   * destination (as Kafka does); the messages published afterwards are its lag.
   */
  async makeLaggingGroup(destination: string): Promise<LaggingGroup> {
    const group = this.name('lagging');
    await this.api.groups.resetOffsets.mutate({ connectionId, group, destination, target: { kind: 'latest' } });
    for (let i = 1; i <= 7; i++) await this.publish(destination, { key: `lag-${i}`, value: Buffer.from(`lag ${i}`), headers: {} });
    return { group, lag: await this.lagOf(group, destination), pending: null };
  }

  /** A group positioned at the end of the destination (an offset reset names it, as in makeLaggingGroup). */
  async consumeWithGroup(destination: string): Promise<string> {
    const group = this.name('fitness-workers');
    await this.api.groups.resetOffsets.mutate({ connectionId, group, destination, target: { kind: 'latest' } });
    return group;
  }

  /** No fitness hint: the fix names the conventional `<name>.dlq`, which the form creates. */
  deadLetterRemedy(destination: string): DeadLetterRemedy {
    return { fixNames: `create ${destination}.dlq`, judged: [destination], create: `${destination}.dlq`, via: null, configure: null };
  }

  adopt(name: string): void {
    this.destinations.add(name);
  }

  async lagOf(group: string, destination: string): Promise<number> {
    const detail = await this.api.groups.describe.query({ connectionId, name: group, destination });
    return detail.lag ?? -1;
  }

  async dispose(): Promise<void> {
    for (const name of this.destinations) await this.api.destinations.delete.mutate({ connectionId, name }).catch(() => undefined);
  }
}
