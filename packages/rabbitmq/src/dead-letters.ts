import type { DeadLetterLink } from '@mailroom/core';
import type { ManagementClient, MgmtBinding, MgmtExchange, MgmtPolicy, MgmtQueue } from './management';

/** Where a queue's dead letters go, as configured by argument or policy. */
export interface DeadLetterConfig {
  exchange: string;
  routingKey: string | null;
  /** 'x-dead-letter-exchange argument' or 'policy <name>'. */
  via: string;
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Does a topic-exchange binding pattern match a routing key (`*` one word, `#` zero or more). */
export function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key === '' ? [] : key.split('.');
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    const word = p[i];
    if (word === '#') {
      for (let n = j; n <= k.length; n++) if (match(i + 1, n)) return true;
      return false;
    }
    if (j === k.length) return false;
    return (word === '*' || word === k[j]) && match(i + 1, j + 1);
  };
  return pattern === '#' || match(0, 0);
}

function policyFor(queue: MgmtQueue, policies: MgmtPolicy[]): MgmtPolicy | null {
  let best: MgmtPolicy | null = null;
  for (const policy of policies) {
    const applyTo = policy['apply-to'];
    if (applyTo !== 'queues' && applyTo !== 'all') continue;
    let matches = false;
    try {
      matches = new RegExp(policy.pattern).test(queue.name);
    } catch {
      continue;
    }
    if (matches && (!best || policy.priority > best.priority)) best = policy;
  }
  return best;
}

/**
 * A queue's dead-letter settings: its x-dead-letter-exchange argument wins over a policy (as
 * in RabbitMQ); the policy comes from the queue's effective_policy_definition, or, when the
 * management stats have not caught up yet, from matching /api/policies.
 */
export function deadLetterConfigOf(queue: MgmtQueue, policies: MgmtPolicy[]): DeadLetterConfig | null {
  const args = queue.arguments ?? {};
  const argExchange = text(args['x-dead-letter-exchange']);
  if (argExchange !== null) {
    return { exchange: argExchange, routingKey: text(args['x-dead-letter-routing-key']), via: 'x-dead-letter-exchange argument' };
  }
  const effective = queue.effective_policy_definition;
  let definition: Record<string, unknown> | null = effective && !Array.isArray(effective) && Object.keys(effective).length > 0 ? effective : null;
  let policyName = queue.policy ?? null;
  if (!definition) {
    const policy = policyFor(queue, policies);
    if (policy) {
      definition = policy.definition;
      policyName = policy.name;
    }
  }
  const exchange = definition ? text(definition['dead-letter-exchange']) : null;
  if (exchange === null || !definition) return null;
  return { exchange, routingKey: text(definition['dead-letter-routing-key']), via: `policy ${policyName ?? '(unnamed)'}` };
}

/** The queues a dead letter from `queue` lands in, by following the DLX's bindings. */
export function resolveDeadLetterQueues(
  source: MgmtQueue,
  config: DeadLetterConfig,
  exchanges: Map<string, MgmtExchange>,
  bindingsFrom: Map<string, MgmtBinding[]>,
  queueNames: Set<string>,
): string[] {
  if (config.exchange === '') {
    const target = config.routingKey ?? source.name;
    return queueNames.has(target) ? [target] : [];
  }
  const exchange = exchanges.get(config.exchange);
  const bindings = (bindingsFrom.get(config.exchange) ?? []).filter((b) => b.destination_type === 'queue');
  if (!exchange) return [];
  // Without a dead-letter routing key the message keeps its own routing keys, which we cannot
  // know in advance: every bound queue may receive some.
  const key = config.routingKey;
  const out = new Set<string>();
  for (const binding of bindings) {
    let matches: boolean;
    switch (exchange.type) {
      case 'fanout':
      case 'headers':
        matches = true;
        break;
      case 'direct':
        matches = key === null || binding.routing_key === key;
        break;
      case 'topic':
        matches = key === null || topicMatches(binding.routing_key, key);
        break;
      default:
        matches = true;
    }
    if (matches) out.add(binding.destination);
  }
  return [...out];
}

export interface DeadLetterGraph {
  /** source queue -> its DLQ queues and how the link was found */
  forward: Map<string, { queues: string[]; exchange: string; via: string }>;
  links: DeadLetterLink[];
}

/**
 * Every dead-letter link of the vhost: from arguments and policies (resolved through the DLX's
 * bindings to queues), and by naming convention (`<name><suffix>` next to an existing `<name>`).
 */
export async function deadLetterGraph(
  management: ManagementClient,
  queues: MgmtQueue[],
  exchanges: MgmtExchange[],
  suffix: string,
): Promise<DeadLetterGraph> {
  const policies = await management.policies().catch(() => [] as MgmtPolicy[]);
  const exchangeMap = new Map(exchanges.map((e) => [e.name, e]));
  const queueNames = new Set(queues.map((q) => q.name));
  const configs = new Map<string, DeadLetterConfig>();
  for (const queue of queues) {
    const config = deadLetterConfigOf(queue, policies);
    if (config) configs.set(queue.name, config);
  }
  const bindingsFrom = new Map<string, MgmtBinding[]>();
  for (const exchange of new Set([...configs.values()].map((c) => c.exchange))) {
    if (exchange === '' || !exchangeMap.has(exchange)) continue;
    bindingsFrom.set(exchange, await management.bindingsFrom(exchange).catch(() => [] as MgmtBinding[]));
  }
  const forward: DeadLetterGraph['forward'] = new Map();
  const byDlq = new Map<string, { origins: Set<string>; via: Set<string> }>();
  const add = (dlq: string, origin: string, via: string) => {
    const entry = byDlq.get(dlq) ?? { origins: new Set<string>(), via: new Set<string>() };
    entry.origins.add(origin);
    entry.via.add(via);
    byDlq.set(dlq, entry);
  };
  const byName = new Map(queues.map((q) => [q.name, q]));
  for (const [name, config] of configs) {
    const source = byName.get(name);
    if (!source) continue;
    const targets = resolveDeadLetterQueues(source, config, exchangeMap, bindingsFrom, queueNames);
    forward.set(name, { queues: targets, exchange: config.exchange, via: config.via });
    for (const target of targets) add(target, name, config.via);
  }
  for (const queue of queues) {
    if (!queue.name.endsWith(suffix) || queue.name.length === suffix.length) continue;
    const origin = queue.name.slice(0, -suffix.length);
    if (queueNames.has(origin) || exchangeMap.has(origin)) {
      add(queue.name, origin, 'naming convention');
      if (!forward.has(origin)) forward.set(origin, { queues: [queue.name], exchange: origin + suffix, via: 'naming convention' });
    }
  }
  const links: DeadLetterLink[] = [...byDlq.entries()]
    .map(([dlq, entry]) => {
      const queue = byName.get(dlq);
      return {
        deadLetter: dlq,
        origins: [...entry.origins].sort(),
        depth: queue?.messages_ready ?? queue?.messages ?? null,
        via: [...entry.via].sort().join(', '),
      };
    })
    .sort((a, b) => a.deadLetter.localeCompare(b.deadLetter));
  return { forward, links };
}
