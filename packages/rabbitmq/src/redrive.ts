import type { Channel, GetMessage, Options } from 'amqplib';
import {
  BrokerUnavailableError,
  ClientClosedError,
  Headers,
  InvalidInputError,
  NotFoundError,
  RateLimiter,
  UnsupportedError,
  type RedriveContext,
  type RedriveProgress,
  type RedriveReport,
  type RedriveRequest,
} from '@mailroom/core';
import { headerText, parseXDeath, storedMessageId, toStoredMessage } from './codec';
import type { ResolvedConfig } from './config';
import { ConnectionHolder } from './connection';
import { mapAmqpError } from './errors';
import type { ManagementClient } from './management';
import { assertValidRabbitName } from './names';
import { ConfirmPublisher, type Outgoing } from './publisher';
import type { Topology } from './topology';

const MAX_FAILURES_REPORTED = 100;
const MAX_RECONNECTS = 5;

/** What survives a crash: cumulative counts and the ids that were being published when it was saved. */
interface Checkpoint {
  v: 1;
  taskId: string;
  moved: number;
  possiblyDuplicated: number;
  /** Published (or about to be) and not yet known to be removed from the source. */
  inFlight: string[];
  /** Set once the task finished: running it again returns this report. */
  final: RedriveReport | null;
}

function readCheckpoint(raw: unknown, taskId: string): Checkpoint | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const c = raw as Partial<Checkpoint>;
  if (c.v !== 1 || c.taskId !== taskId) return null;
  return {
    v: 1,
    taskId,
    moved: typeof c.moved === 'number' ? c.moved : 0,
    possiblyDuplicated: typeof c.possiblyDuplicated === 'number' ? c.possiblyDuplicated : 0,
    inFlight: Array.isArray(c.inFlight) ? c.inFlight.filter((id): id is string => typeof id === 'string') : [],
    final: c.final ?? null,
  };
}

interface Route {
  exchange: string;
  routingKey: string;
  cc: string[];
}

type RouteResult = { ok: true; route: Route } | { ok: false; reason: string };

export interface RedriveDeps {
  config: ResolvedConfig;
  management: ManagementClient;
  topology: (holder: ConnectionHolder) => Topology;
}

/**
 * Moves dead letters back with nothing lost: each message is taken from the DLQ with basic.get
 * (manual ack), published persistent over a confirm channel, and acked on the DLQ only after
 * the broker confirmed the copy. Messages not selected (ids/filter), already moved by this task,
 * or that cannot be routed stay unacked until the end of the pass and are then requeued
 * together (they keep their order, behind nothing: RabbitMQ requeues to the original position).
 *
 * A lost connection returns every unacked message to the DLQ; the task reconnects and goes on.
 * Copies whose confirm arrived but whose ack may not have reached the broker (or published but
 * never confirmed) can then be moved twice: they are counted in possiblyDuplicated.
 */
export async function runRedrive(deps: RedriveDeps, request: RedriveRequest, context: RedriveContext): Promise<RedriveReport> {
  const { config } = deps;
  assertValidRabbitName(request.source);
  if (request.target !== null) assertValidRabbitName(request.target);
  if (typeof request.taskId !== 'string' || request.taskId === '') throw new InvalidInputError('A redrive needs a taskId');
  const selection = request.selection;
  const ids = selection.kind === 'ids' ? new Set(selection.ids) : null;
  const predicate = selection.kind === 'filter' ? selection.predicate : null;

  const checkpoint = readCheckpoint(await context.checkpoint.load(), request.taskId);
  if (checkpoint?.final) return checkpoint.final;
  const carriedInFlight = new Set(checkpoint?.inFlight ?? []);

  const sourceInfo = await deps.management.queue(request.source).catch((error: unknown) => {
    if (error instanceof NotFoundError) throw new NotFoundError(`Dead-letter queue ${request.source} does not exist`);
    throw error;
  });
  if (sourceInfo.type === 'stream') {
    throw new UnsupportedError(`${request.source} is a stream: messages cannot be removed from a stream, so they cannot be moved`, {
      hint: 'Publish the ones you need again from the browse view.',
    });
  }

  const holder = new ConnectionHolder(config, `redrive:${request.taskId}`, 'redrive');
  const publisher = new ConfirmPublisher(holder, config.requestTimeoutMs);
  const topology = deps.topology(holder);
  const limiter = new RateLimiter(request.ratePerSecond);
  const progress: RedriveProgress = {
    moved: checkpoint?.moved ?? 0,
    failed: 0,
    skipped: 0,
    remaining: null,
    possiblyDuplicated: checkpoint?.possiblyDuplicated ?? 0,
  };
  const failures: { id: string; reason: string }[] = [];
  const exchangeExists = new Map<string, boolean>();
  const queueExists = new Map<string, boolean>();
  let lastProgressAt = 0;

  const report = (outcome: RedriveReport['outcome'], error: string | null): RedriveReport => ({ ...progress, outcome, error, failures: failures.slice() });
  const emit = (force = false) => {
    const now = Date.now();
    if (!force && now - lastProgressAt < 250) return;
    lastProgressAt = now;
    context.onProgress({ ...progress });
  };
  const save = (inFlight: string[], final: RedriveReport | null) =>
    context.checkpoint.save({
      v: 1,
      taskId: request.taskId,
      moved: progress.moved,
      possiblyDuplicated: progress.possiblyDuplicated,
      inFlight,
      final,
    } satisfies Checkpoint);

  async function hasExchange(name: string): Promise<boolean> {
    let known = exchangeExists.get(name);
    if (known === undefined) {
      known = await topology.exchangeExists(name);
      exchangeExists.set(name, known);
    }
    return known;
  }
  async function hasQueue(name: string): Promise<boolean> {
    let known = queueExists.get(name);
    if (known === undefined) {
      known = (await topology.queueState(name)) !== null;
      queueExists.set(name, known);
    }
    return known;
  }
  async function routeToName(name: string, key: string): Promise<RouteResult> {
    if (name === request.source) return { ok: false, reason: `the target is the dead-letter queue ${name} itself` };
    if (await hasExchange(name)) return { ok: true, route: { exchange: name, routingKey: key, cc: [] } };
    if (await hasQueue(name)) return { ok: true, route: { exchange: '', routingKey: name, cc: [] } };
    return { ok: false, reason: `no exchange or queue named ${name}` };
  }
  async function routeOf(message: GetMessage): Promise<RouteResult> {
    const raw = message.properties.headers;
    const deaths = parseXDeath(raw);
    const latest = deaths[0];
    const keys = latest?.routingKeys ?? [];
    const ownKey = headerText(raw?.['x-mailroom-key']);
    if (request.target !== null) return routeToName(request.target, keys[0] ?? ownKey ?? '');
    if (latest) {
      if (config.redriveOrigin === 'queue' && latest.queue !== null && latest.queue !== request.source && (await hasQueue(latest.queue))) {
        return { ok: true, route: { exchange: '', routingKey: latest.queue, cc: [] } };
      }
      const exchange = latest.exchange ?? '';
      if (!(await hasExchange(exchange))) return { ok: false, reason: `its origin exchange ${exchange} (from x-death) no longer exists` };
      if (exchange === '' && keys[0] === request.source) return { ok: false, reason: 'x-death points back at the dead-letter queue itself' };
      return { ok: true, route: { exchange, routingKey: keys[0] ?? '', cc: keys.slice(1) } };
    }
    const origin = headerText(raw?.[Headers.deadLetterOrigin]);
    if (origin !== null && origin !== '') return routeToName(origin, ownKey ?? '');
    return { ok: false, reason: 'it has neither x-death nor an x-mailroom-origin header, so its origin is unknown: choose a target' };
  }

  function copyOf(message: GetMessage, route: Route): Outgoing {
    const props = message.properties;
    const headers: Record<string, unknown> = { ...(props.headers ?? {}) };
    delete headers['x-delivery-count'];
    // The broker routes by a CC header too (sender-selected distribution): left on the copy, the
    // original publish's CC keys would send it to more queues than the route chosen here.
    delete headers['CC'];
    headers[Headers.redrivenFrom] = request.source;
    headers[Headers.redriveTask] = request.taskId;
    const options: Options.Publish = { headers, persistent: true, mandatory: true };
    if (route.cc.length > 0) options.CC = route.cc;
    if (props.messageId !== undefined) options.messageId = props.messageId;
    if (props.correlationId !== undefined) options.correlationId = props.correlationId;
    if (props.replyTo !== undefined) options.replyTo = props.replyTo;
    if (props.contentType !== undefined) options.contentType = props.contentType;
    if (props.contentEncoding !== undefined) options.contentEncoding = props.contentEncoding;
    if (props.expiration !== undefined) options.expiration = props.expiration;
    if (props.priority !== undefined) options.priority = props.priority;
    if (props.timestamp !== undefined) options.timestamp = props.timestamp;
    if (props.type !== undefined) options.type = props.type;
    if (props.appId !== undefined) options.appId = props.appId;
    return { exchange: route.exchange, routingKey: route.routingKey, content: message.content, options };
  }

  function recordFailure(id: string, reason: string) {
    progress.failed++;
    if (failures.length < MAX_FAILURES_REPORTED) failures.push({ id, reason });
  }

  const batchLimit = Math.max(1, request.ratePerSecond && request.ratePerSecond > 0 ? Math.min(config.redriveBatchSize, Math.ceil(request.ratePerSecond / 5)) : config.redriveBatchSize);

  /** Acks sent since the broker last answered on the channel: a lost connection leaves them uncertain. */
  let unsyncedAcks = 0;

  /** One pass over the queue on one connection; returns when done, cancelled, or the connection is lost. */
  async function pass(): Promise<'done' | 'cancelled'> {
    unsyncedAcks = 0;
    const connection = await holder.connection();
    const channel: Channel = await connection.createChannel();
    channel.on('error', () => undefined);
    let channelClosed = false;
    channel.on('close', () => {
      channelClosed = true;
    });
    // Only delivery tags are kept for messages that stay: their bodies may be large.
    const held: number[] = [];
    const hold = (message: GetMessage) => held.push(message.fields.deliveryTag);
    try {
      const { messageCount } = await channel.checkQueue(request.source);
      // Only the messages present at the start of the pass: ones that fail again at their origin
      // and come back are not moved round and round.
      let budget = messageCount;
      progress.failed = 0;
      progress.skipped = 0;
      failures.length = 0;
      progress.remaining = budget;
      emit(true);
      let drained = false;
      while (budget > 0 && !drained) {
        if (context.signal.aborted) return 'cancelled';
        const batch: { message: GetMessage; id: string; route: Route }[] = [];
        while (batch.length < batchLimit && budget > 0) {
          const got = await channel.get(request.source, { noAck: false });
          // The broker answered on this channel, so it has processed every ack sent before.
          unsyncedAcks = 0;
          if (got === false) {
            drained = true;
            break;
          }
          budget--;
          progress.remaining = budget;
          const id = storedMessageId(got);
          if (headerText(got.properties.headers?.[Headers.redriveTask]) === request.taskId) {
            // Moved by this task before and dead-lettered again: moving it again would loop.
            progress.skipped++;
            hold(got);
            continue;
          }
          const selected = ids ? ids.has(id) : predicate ? predicate(toStoredMessage(got, request.source)) : true;
          if (!selected) {
            progress.skipped++;
            hold(got);
            continue;
          }
          const routed = await routeOf(got);
          if (!routed.ok) {
            recordFailure(id, routed.reason);
            hold(got);
            continue;
          }
          batch.push({ message: got, id, route: routed.route });
        }
        if (batch.length === 0) {
          emit();
          continue;
        }
        if (request.dryRun) {
          progress.moved += batch.length;
          for (const b of batch) hold(b.message);
          emit();
          continue;
        }
        // Write-ahead: after a crash, these ids may already be at the target.
        await save(batch.map((b) => b.id), null);
        await limiter.take(batch.length, context.signal);
        if (context.signal.aborted) {
          for (const b of batch) hold(b.message);
          await save([], null);
          return 'cancelled';
        }
        const outcomes = await publisher.publish(batch.map((b) => copyOf(b.message, b.route)));
        let lost: Error | null = null;
        let unconfirmed = 0;
        outcomes.forEach((outcome, index) => {
          const item = batch[index];
          if (!item) return;
          if (outcome.status === 'confirmed') {
            if (carriedInFlight.has(item.id)) progress.possiblyDuplicated++;
            progress.moved++;
            unsyncedAcks++;
            try {
              channel.ack(item.message);
            } catch (error) {
              lost ??= mapAmqpError(error, 'acknowledge a redriven message');
            }
          } else if (outcome.status === 'unroutable') {
            recordFailure(item.id, `unroutable at ${item.route.exchange === '' ? `queue ${item.route.routingKey}` : `exchange ${item.route.exchange} with routing key ${JSON.stringify(item.route.routingKey)}`}`);
            hold(item.message);
          } else {
            const mapped = mapAmqpError(outcome.error, 'publish a redriven message');
            if (mapped instanceof BrokerUnavailableError) {
              lost ??= mapped;
              unconfirmed++;
            } else {
              recordFailure(item.id, mapped.message);
              hold(item.message);
            }
          }
        });
        if (lost) {
          // Published but never confirmed: the copy may be at the target, and the original comes back.
          progress.possiblyDuplicated += unconfirmed;
          throw lost;
        }
        if (carriedInFlight.size > 0) for (const item of batch) carriedInFlight.delete(item.id);
        emit();
      }
      return 'done';
    } catch (error) {
      const mapped = mapAmqpError(error, `redrive from ${request.source}`);
      // Whatever amqplib says when the channel dies under a pending call, it is a lost channel.
      if (channelClosed && !(mapped instanceof BrokerUnavailableError)) {
        throw new BrokerUnavailableError(`Lost the RabbitMQ channel while redriving from ${request.source}: ${mapped.message}`, { cause: error });
      }
      throw mapped;
    } finally {
      // Whatever stays unacked goes back to the DLQ, in its original order.
      try {
        for (const deliveryTag of held) channel.nack({ fields: { deliveryTag } } as GetMessage, false, true);
      } catch {
        // the channel is gone: the broker requeued them itself
      }
      // A clean channel close is the sync point: the broker has processed every ack before it, so
      // a pass that failed for another reason than a lost connection leaves no ack uncertain.
      try {
        await channel.close();
        unsyncedAcks = 0;
      } catch {
        // gone with the connection: acks sent since the last answer stay uncertain
      }
    }
  }

  let reconnects = 0;
  try {
    for (;;) {
      try {
        const outcome = await pass();
        const final = report(outcome === 'cancelled' ? 'cancelled' : 'completed', null);
        if (!request.dryRun) await save([], outcome === 'done' ? final : null);
        emit(true);
        return final;
      } catch (error) {
        if (error instanceof ClientClosedError) throw error;
        if (!(error instanceof BrokerUnavailableError) || reconnects >= MAX_RECONNECTS || context.signal.aborted) {
          progress.possiblyDuplicated += unsyncedAcks;
          unsyncedAcks = 0;
          const final = report(context.signal.aborted ? 'cancelled' : 'failed', error instanceof Error ? error.message : String(error));
          emit(true);
          return final;
        }
        reconnects++;
        // Acks sent since the broker last answered may not have reached it: those originals come back.
        progress.possiblyDuplicated += unsyncedAcks;
        unsyncedAcks = 0;
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 200 * 2 ** (reconnects - 1))));
      }
    }
  } finally {
    await publisher.close();
    await holder.close();
  }
}
