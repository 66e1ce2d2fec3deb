import {
  InvalidInputError,
  NotFoundError,
  UnsupportedError,
  type CreateDestinationOptions,
} from '@mailroom/core';
import type { ResolvedConfig } from './config';
import type { ConnectionHolder } from './connection';
import type { ManagementClient, MgmtBinding } from './management';
import { assertCreatableName, assertValidRabbitName } from './names';

/** Queue arguments that mark a consumer group's queue (so it can be listed and cleaned up). */
export const GroupArgs = { topic: 'x-mailroom-topic', group: 'x-mailroom-group' } as const;

export type QueueType = 'classic' | 'quorum' | 'stream';

/** How a name resolves: a topic is an exchange (usually with a same-named queue), a plain queue has none. */
export interface NameTarget {
  exchange: boolean;
  queue: boolean;
}

export interface Binding {
  exchange: string;
  routingKey: string;
  arguments: Record<string, unknown>;
}

export class Topology {
  constructor(
    private readonly config: ResolvedConfig,
    private readonly holder: ConnectionHolder,
    private readonly management: ManagementClient,
  ) {}

  groupQueueName(topic: string, group: string): string {
    const name = `${topic}${this.config.groupSeparator}${group}`;
    assertValidRabbitName(name, 'consumer group queue');
    return name;
  }

  async exchangeExists(name: string): Promise<boolean> {
    if (name === '') return true;
    try {
      await this.holder.withChannel(`check exchange ${name}`, (ch) => ch.checkExchange(name));
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  /** Ready count and consumers from a passive declare: real-time, unlike management stats. */
  async queueState(name: string): Promise<{ messageCount: number; consumerCount: number } | null> {
    try {
      return await this.holder.withChannel(`check queue ${name}`, (ch) => ch.checkQueue(name));
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  async resolve(name: string): Promise<NameTarget> {
    const [exchange, queue] = await Promise.all([this.exchangeExists(name), this.queueState(name)]);
    return { exchange, queue: queue !== null };
  }

  async resolveExisting(name: string): Promise<NameTarget> {
    const target = await this.resolve(name);
    if (!target.exchange && !target.queue) {
      throw new NotFoundError(`RabbitMQ has no exchange or queue named ${JSON.stringify(name)} in vhost ${JSON.stringify(this.config.vhost)}`, {
        hint: 'Create it first (createDestination makes a topic exchange and a queue bound to it).',
      });
    }
    return target;
  }

  async queueType(name: string): Promise<string> {
    const queue = await this.management.queue(name);
    return queue.type ?? 'classic';
  }

  /**
   * A topic: a durable `topic` exchange (routing keys = message keys, so operators can bind
   * selective queues such as `orders.eu.#`) plus a durable queue of the same name bound with
   * `#` that keeps every message for browsing, dead-lettering and redrive.
   */
  async createDestination(name: string, options: CreateDestinationOptions = {}): Promise<void> {
    assertCreatableName(name);
    if (options.partitions !== undefined && options.partitions !== 1) {
      throw new UnsupportedError(`RabbitMQ queues are not partitioned; cannot create ${name} with ${options.partitions} partitions`, {
        hint: 'Create it with one partition; use several queues (or a super stream) to spread load.',
      });
    }
    const type = (options.type ?? (options.deadLetter ? 'quorum' : 'classic')) as QueueType;
    if (type !== 'classic' && type !== 'quorum' && type !== 'stream') {
      throw new InvalidInputError(`RabbitMQ queue type must be classic, quorum or stream, not ${JSON.stringify(options.type)}`);
    }
    const args: Record<string, unknown> = { 'x-queue-type': type };
    if (options.deadLetter) {
      const { destination, maxDeliveries } = options.deadLetter;
      assertValidRabbitName(destination);
      if (type === 'stream') throw new InvalidInputError('RabbitMQ stream queues do not dead-letter messages; use a classic or quorum queue');
      if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) throw new InvalidInputError('deadLetter.maxDeliveries must be a positive integer');
      const dlq = await this.resolve(destination);
      if (!dlq.exchange && !dlq.queue) await this.createDestination(destination, { type: 'classic' });
      if (dlq.exchange || !dlq.queue) {
        args['x-dead-letter-exchange'] = destination;
      } else {
        args['x-dead-letter-exchange'] = '';
        args['x-dead-letter-routing-key'] = destination;
      }
      if (type === 'quorum') {
        // A quorum queue dead-letters a message returned more than x-delivery-limit times.
        args['x-delivery-limit'] = Math.max(0, maxDeliveries - 1);
      }
    }
    await this.holder.withChannel(`create ${name}`, async (ch) => {
      await ch.assertExchange(name, 'topic', { durable: true });
      await ch.assertQueue(name, { durable: true, arguments: args });
      await ch.bindQueue(name, name, '#');
    });
  }

  /** Deletes the topic exchange, its queue and the consumer-group queues Mailroom made for it. */
  async deleteDestination(name: string): Promise<void> {
    assertValidRabbitName(name);
    const target = await this.resolveExisting(name);
    const groupQueues: string[] = [];
    if (target.exchange) {
      const bindings = await this.management.bindingsFrom(name).catch((error: unknown) => {
        if (error instanceof NotFoundError) return [] as MgmtBinding[];
        throw error;
      });
      const candidates = new Set(bindings.filter((b) => b.destination_type === 'queue' && b.destination !== name).map((b) => b.destination));
      for (const queue of candidates) {
        const info = await this.management.queue(queue).catch(() => null);
        if (info?.arguments?.[GroupArgs.topic] === name) groupQueues.push(queue);
      }
    }
    await this.holder.withChannel(`delete ${name}`, async (ch) => {
      for (const queue of groupQueues) await ch.deleteQueue(queue);
      if (target.queue) await ch.deleteQueue(name);
      if (target.exchange) await ch.deleteExchange(name);
    });
  }

  async purge(name: string): Promise<number> {
    assertValidRabbitName(name);
    const target = await this.resolveExisting(name);
    if (!target.queue) {
      throw new UnsupportedError(`${name} is an exchange: exchanges store nothing, so there is nothing to purge`, { hint: 'Purge one of the queues bound to it.' });
    }
    const result = await this.holder.withChannel(`purge ${name}`, (ch) => ch.purgeQueue(name));
    return result.messageCount;
  }

  /** The exchange bindings a queue receives through (not the default exchange's implicit one). */
  async queueBindings(queue: string): Promise<Binding[]> {
    const bindings = await this.management.bindingsOf(queue);
    return bindings
      .filter((b) => b.source !== '' && b.destination_type === 'queue')
      .map((b) => ({ exchange: b.source, routingKey: b.routing_key, arguments: b.arguments ?? {} }));
  }

  /**
   * How a subscriber's queue binds to exchange `name` so it receives every message: `#` for
   * topic, anything for fanout, an empty match for headers, and for a direct exchange the
   * routing keys currently bound on it.
   */
  async catchAllBindings(exchange: string): Promise<Binding[]> {
    const info = await this.management.exchange(exchange);
    switch (info.type) {
      case 'topic':
        return [{ exchange, routingKey: '#', arguments: {} }];
      case 'fanout':
        return [{ exchange, routingKey: '', arguments: {} }];
      case 'headers':
        return [{ exchange, routingKey: '', arguments: { 'x-match': 'all' } }];
      case 'direct': {
        const keys = new Set((await this.management.bindingsFrom(exchange)).map((b) => b.routing_key));
        if (keys.size === 0) {
          throw new UnsupportedError(`Direct exchange ${exchange} has no bindings, so there is no routing key to listen on`);
        }
        return [...keys].map((routingKey) => ({ exchange, routingKey, arguments: {} }));
      }
      default:
        throw new UnsupportedError(`Cannot subscribe to every message of a ${info.type} exchange (${exchange})`, {
          hint: 'Bind a queue to it with the arguments this exchange type needs, and read that queue.',
        });
    }
  }
}
