import type { Channel, ConsumeMessage } from 'amqplib';
import { TailBuffer, UnsupportedError, type TailBatch, type TailRequest } from '@mailroom/core';
import { toStoredMessage } from './codec';
import type { ResolvedConfig } from './config';
import { closeQuietly, ConnectionHolder } from './connection';
import { mapAmqpError } from './errors';
import type { ManagementClient } from './management';
import { NotFoundError } from '@mailroom/core';
import type { Binding, Topology } from './topology';

/**
 * Live tail without taking anything from consumers:
 * - a stream queue is consumed from offset 'next';
 * - a topic (exchange) gets a temporary exclusive, auto-delete queue bound to catch everything;
 * - a plain queue gets a temporary queue bound with the same exchanges and routing keys as the
 *   queue itself, so it sees a copy of every new message that reaches the queue via an
 *   exchange. A queue fed only through the default exchange cannot be tailed this way.
 * The temporary queue lives on the tail's own connection and disappears with it.
 */
export async function* tailDestination(
  config: ResolvedConfig,
  management: ManagementClient,
  topology: (holder: ConnectionHolder) => Topology,
  request: TailRequest,
): AsyncGenerator<TailBatch> {
  const holder = new ConnectionHolder(config, 'tail', 'tail');
  const maxBatch = Math.max(1, Math.min(request.maxBatch ?? 500, 500));
  const buffer = new TailBuffer({ capacity: 10_000, maxBatch, flushMs: 100 });
  const name = request.destination;
  let channel: Channel | null = null;
  try {
    const topo = topology(holder);
    const target = await topo.resolveExisting(name);
    const queueInfo = target.queue ? await management.queue(name).catch((e: unknown) => (e instanceof NotFoundError ? null : Promise.reject(e))) : null;
    const isStream = queueInfo?.type === 'stream';
    let bindings: Binding[] = [];
    if (!isStream) {
      bindings = target.exchange ? await topo.catchAllBindings(name) : await topo.queueBindings(name);
      if (bindings.length === 0) {
        throw new UnsupportedError(
          `Queue ${name} is bound to no exchange: messages reach it only through the default exchange (addressed to the queue itself), ` +
            'so a tail cannot get copies of them without taking them from its consumers.',
          { hint: 'Bind the queue to an exchange and publish there, or use browse (a peek) instead.' },
        );
      }
    }
    const connection = await holder.connection();
    channel = await connection.createChannel();
    channel.on('error', () => undefined);
    channel.on('close', () => buffer.end());
    const push = (message: ConsumeMessage) => {
      const stored = toStoredMessage(message, name);
      if (!request.filter || request.filter(stored)) buffer.push(stored);
    };
    if (isStream) {
      const ch = channel;
      await ch.prefetch(1000);
      await ch.consume(
        name,
        (message) => {
          if (message === null) return buffer.end();
          ch.ack(message);
          push(message);
        },
        { noAck: false, arguments: { 'x-stream-offset': 'next' } },
      );
    } else {
      const temp = await channel.assertQueue('', {
        exclusive: true,
        autoDelete: true,
        durable: false,
        // Bounded: a tail nobody reads must not fill the broker's memory.
        arguments: { 'x-queue-type': 'classic', 'x-max-length': 10_000, 'x-overflow': 'drop-head' },
      });
      for (const binding of bindings) await channel.bindQueue(temp.queue, binding.exchange, binding.routingKey, binding.arguments);
      await channel.consume(
        temp.queue,
        (message) => {
          if (message === null) return buffer.end();
          push(message);
        },
        { noAck: true, exclusive: true },
      );
    }
  } catch (error) {
    await closeQuietly(channel);
    await holder.close();
    throw mapAmqpError(error, `tail ${name}`);
  }
  request.onReady?.();
  try {
    yield* buffer.batches(request.signal);
  } finally {
    await closeQuietly(channel);
    await holder.close();
  }
}
