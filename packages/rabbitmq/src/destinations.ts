import {
  NotFoundError,
  type AttributeValue,
  type DestinationDetail,
  type DestinationKind,
  type DestinationMetrics,
  type DestinationSummary,
  type GroupMetrics,
  type MetricsSnapshot,
} from '@mailroom/core';
import type { ResolvedConfig } from './config';
import { deadLetterGraph, type DeadLetterGraph } from './dead-letters';
import { headerText } from './codec';
import type { ManagementClient, MgmtExchange, MgmtQueue } from './management';
import { GroupArgs } from './topology';

function rate(details: { rate?: number } | undefined): number | null {
  return typeof details?.rate === 'number' ? details.rate : null;
}

function isSystemExchange(exchange: MgmtExchange): boolean {
  return exchange.name === '' || exchange.name.startsWith('amq.');
}

export interface Snapshot {
  queues: MgmtQueue[];
  exchanges: MgmtExchange[];
  graph: DeadLetterGraph;
}

export async function readSnapshot(management: ManagementClient, config: ResolvedConfig): Promise<Snapshot> {
  const [queues, exchanges] = await Promise.all([management.queues(), management.exchanges()]);
  const graph = await deadLetterGraph(management, queues, exchanges, config.deadLetterSuffix);
  return { queues, exchanges, graph };
}

function queueAttributes(queue: MgmtQueue): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {
    type: queue.type ?? 'classic',
    durable: queue.durable ?? null,
    autoDelete: queue.auto_delete ?? null,
    exclusive: queue.exclusive ?? null,
    state: queue.state ?? null,
    policy: queue.policy ?? null,
  };
  const args = queue.arguments ?? {};
  for (const [name, value] of Object.entries(args)) attributes[name] = headerText(value);
  const group = args[GroupArgs.group];
  if (typeof group === 'string') attributes['consumerGroup'] = group;
  if (typeof queue.message_stats?.redeliver_details?.rate === 'number') attributes['redeliverRate'] = queue.message_stats.redeliver_details.rate;
  if (typeof queue.message_stats?.ack_details?.rate === 'number') attributes['ackRate'] = queue.message_stats.ack_details.rate;
  return attributes;
}

/** A queue's message TTL from its argument or effective policy (the lower applies when both are set). */
function messageTtlOf(queue: MgmtQueue): number | null {
  const arg = queue.arguments?.['x-message-ttl'];
  const effective = queue.effective_policy_definition;
  const policy = effective && !Array.isArray(effective) ? effective['message-ttl'] : undefined;
  const ttls = [arg, policy].filter((v): v is number => typeof v === 'number' && v > 0);
  return ttls.length > 0 ? Math.min(...ttls) : null;
}

function kindOf(queue: MgmtQueue | undefined, exchange: MgmtExchange | undefined): DestinationKind {
  if (queue && exchange) return 'topic';
  if (queue) return queue.type === 'stream' ? 'stream' : 'queue';
  return 'exchange';
}

/**
 * One entry per name: a topic (exchange + same-named queue) shows once with its queue's
 * counts; a queue or an exchange alone shows as itself. Counts come from the management API,
 * whose statistics lag the broker by up to its collection interval (5 s by default).
 */
export function summaries(snapshot: Snapshot): DestinationSummary[] {
  const queues = new Map(snapshot.queues.map((q) => [q.name, q]));
  const exchanges = new Map(snapshot.exchanges.filter((e) => !isSystemExchange(e)).map((e) => [e.name, e]));
  const names = [...new Set([...queues.keys(), ...exchanges.keys()])].sort();
  const dlqSources = new Map(snapshot.graph.links.map((l) => [l.deadLetter, l.origins]));
  const lag = groupLag(snapshot.queues);
  return names.map((name) => {
    const summary = summaryOf(name, queues.get(name), exchanges.get(name), snapshot.graph, dlqSources);
    summary.lag = lag.get(name) ?? null;
    return summary;
  });
}

/** A group's lag: what its queue holds that was not acknowledged yet (ready + delivered-unacked), like end − committed. */
export function queueLag(queue: MgmtQueue): number | null {
  if (typeof queue.messages_ready !== 'number') return null;
  return queue.messages_ready + (queue.messages_unacknowledged ?? 0);
}

/** Per topic: the lag summed over its consumer-group queues. */
function groupLag(queues: MgmtQueue[]): Map<string, number> {
  const lag = new Map<string, number>();
  for (const queue of queues) {
    const topic = queue.arguments?.[GroupArgs.topic];
    const value = queueLag(queue);
    if (typeof topic === 'string' && value !== null) lag.set(topic, (lag.get(topic) ?? 0) + value);
  }
  return lag;
}

function summaryOf(
  name: string,
  queue: MgmtQueue | undefined,
  exchange: MgmtExchange | undefined,
  graph: DeadLetterGraph,
  dlqSources: Map<string, string[]>,
): DestinationSummary {
  const sources = dlqSources.get(name) ?? [];
  const forward = graph.forward.get(name);
  const attributes: Record<string, AttributeValue> = queue ? queueAttributes(queue) : {};
  if (exchange) {
    attributes['exchangeType'] = exchange.type;
    attributes['exchangeDurable'] = exchange.durable ?? null;
    if (exchange.internal) attributes['internal'] = true;
  }
  if (forward) {
    attributes['deadLetterExchange'] = forward.exchange;
    attributes['deadLetterVia'] = forward.via;
  }
  const stats = queue?.message_stats;
  return {
    name,
    kind: kindOf(queue, exchange),
    depth: queue ? (queue.type === 'stream' ? (queue.messages ?? null) : (queue.messages_ready ?? null)) : null,
    inFlight: queue ? (queue.messages_unacknowledged ?? null) : null,
    partitions: null,
    consumers: queue ? (queue.consumers ?? null) : null,
    lag: null,
    publishRate: queue ? rate(stats?.publish_details) : rate(exchange?.message_stats?.publish_in_details),
    deliverRate: queue ? rate(stats?.deliver_get_details) : null,
    isDeadLetter: sources.length > 0,
    deadLetter: forward ? (forward.queues[0] ?? (forward.exchange === '' ? null : forward.exchange)) : null,
    deadLetterSources: sources,
    attributes,
    // Messages that expire here are dead-lettered onward: the TTL is how long they wait (a retry stage's delay).
    deliveryDelayMs: queue && forward ? messageTtlOf(queue) : null,
    subscriptionOf: typeof queue?.arguments?.[GroupArgs.group] === 'string' ? [queue.arguments[GroupArgs.group] as string] : [],
  };
}

export async function describe(management: ManagementClient, config: ResolvedConfig, name: string): Promise<DestinationDetail> {
  const [queue, exchange] = await Promise.all([
    management.queue(name).catch((error: unknown) => (error instanceof NotFoundError ? undefined : Promise.reject(error))),
    management.exchange(name).catch((error: unknown) => (error instanceof NotFoundError ? undefined : Promise.reject(error))),
  ]);
  if (!queue && !exchange) throw new NotFoundError(`RabbitMQ has no exchange or queue named ${JSON.stringify(name)} in vhost ${JSON.stringify(config.vhost)}`);
  const snapshot = await readSnapshot(management, config);
  const dlqSources = new Map(snapshot.graph.links.map((l) => [l.deadLetter, l.origins]));
  const summary = summaryOf(name, queue, exchange && !isSystemExchange(exchange) ? exchange : undefined, snapshot.graph, dlqSources);
  summary.lag = groupLag(snapshot.queues).get(name) ?? null;
  const configOut: Record<string, string> = {};
  for (const [key, value] of Object.entries(queue?.arguments ?? {})) configOut[key] = headerText(value) ?? '';
  const effective = queue?.effective_policy_definition;
  if (effective && !Array.isArray(effective)) {
    for (const [key, value] of Object.entries(effective)) configOut[`policy:${key}`] = headerText(value) ?? '';
  }
  if (queue?.policy) configOut['policy'] = queue.policy;
  if (exchange) {
    configOut['exchange.type'] = exchange.type;
    for (const [key, value] of Object.entries(exchange.arguments ?? {})) configOut[`exchange.${key}`] = headerText(value) ?? '';
  }
  // Bindings: what feeds this queue, and where this exchange routes.
  if (queue) {
    const bindings = await management.bindingsOf(name).catch(() => []);
    for (const b of bindings) {
      if (b.source === '') continue;
      const key = `binding:${b.source}`;
      configOut[key] = configOut[key] === undefined ? b.routing_key : `${configOut[key]}, ${b.routing_key}`;
    }
  }
  if (exchange) {
    const bindings = await management.bindingsFrom(name).catch(() => []);
    for (const b of bindings) {
      const key = `routesTo:${b.destination_type}:${b.destination}`;
      configOut[key] = configOut[key] === undefined ? b.routing_key : `${configOut[key]}, ${b.routing_key}`;
    }
  }
  return { ...summary, partitionDetails: [], config: configOut };
}

export function metricsOf(snapshot: Snapshot, now: Date): MetricsSnapshot {
  const destinations: DestinationMetrics[] = [];
  const groups: GroupMetrics[] = [];
  for (const queue of snapshot.queues) {
    const stats = queue.message_stats;
    const head = queue.head_message_timestamp;
    destinations.push({
      destination: queue.name,
      depth: queue.type === 'stream' ? (queue.messages ?? null) : (queue.messages_ready ?? null),
      inFlight: queue.messages_unacknowledged ?? null,
      delayed: null,
      consumers: queue.consumers ?? null,
      publishRate: rate(stats?.publish_details),
      deliverRate: rate(stats?.deliver_get_details),
      ackRate: rate(stats?.ack_details),
      oldestAgeMs: typeof head === 'number' && head > 0 ? Math.max(0, now.getTime() - head * 1000) : null,
    });
    const args = queue.arguments ?? {};
    const group = args[GroupArgs.group];
    const topic = args[GroupArgs.topic];
    if (typeof group === 'string' && typeof topic === 'string') {
      groups.push({
        group,
        destination: topic,
        lag: queueLag(queue),
        pending: queue.messages_unacknowledged ?? null,
        consumeRate: rate(stats?.ack_details),
      });
    }
  }
  return { at: now, destinations, groups };
}
