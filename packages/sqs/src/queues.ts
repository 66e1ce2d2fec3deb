import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListDeadLetterSourceQueuesCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import {
  InvalidInputError,
  NotFoundError,
  UnsupportedError,
  type AttributeValue,
  type CreateDestinationOptions,
  type DeadLetterLink,
  type DestinationDetail,
  type DestinationSummary,
} from '@mailroom/core';
import type { SqsConnection } from './connection';
import { deadLetterName, isFifoName, queueNameFromArn, queueNameFromUrl, validateQueueName } from './names';

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  deadLetter: string;
  maxReceiveCount: number;
}

export interface QueueInfo {
  name: string;
  url: string;
  arn: string | null;
  attributes: Record<string, string>;
  redrivePolicy: RedrivePolicy | null;
}

export function parseRedrivePolicy(raw: string | undefined): RedrivePolicy | null {
  if (raw === undefined || raw === '') return null;
  try {
    const parsed = JSON.parse(raw) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    if (typeof parsed.deadLetterTargetArn !== 'string') return null;
    const max = Number(parsed.maxReceiveCount);
    return {
      deadLetterTargetArn: parsed.deadLetterTargetArn,
      deadLetter: queueNameFromArn(parsed.deadLetterTargetArn),
      maxReceiveCount: Number.isFinite(max) ? max : 0,
    };
  } catch {
    return null;
  }
}

function numberOrNull(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

export async function listQueueUrls(connection: SqsConnection, signal?: AbortSignal): Promise<string[]> {
  const urls: string[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const out = await connection.run(
      'ListQueues',
      (o) => connection.client.send(new ListQueuesCommand({ MaxResults: 1000, ...(token ? { NextToken: token } : {}) }), o),
      signal ? { signal } : {},
    );
    urls.push(...(out.QueueUrls ?? []));
    nextToken = out.NextToken;
  } while (nextToken);
  return urls;
}

export function queueInfo(name: string, url: string, attributes: Record<string, string>): QueueInfo {
  return { name, url, arn: attributes['QueueArn'] ?? null, attributes, redrivePolicy: parseRedrivePolicy(attributes['RedrivePolicy']) };
}

/** Every queue with its attributes (a few GetQueueAttributes at a time). Queues deleted meanwhile are left out. */
export async function loadQueues(connection: SqsConnection, names: QueueAttributeName[] = ['All'], signal?: AbortSignal): Promise<QueueInfo[]> {
  const urls = await listQueueUrls(connection, signal);
  const infos: (QueueInfo | null)[] = new Array<QueueInfo | null>(urls.length).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const index = next++;
      const url = urls[index]!;
      const name = queueNameFromUrl(url);
      try {
        const out = await connection.run(
          `GetQueueAttributes ${name}`,
          (o) => connection.client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names }), o),
          signal ? { signal } : {},
        );
        connection.rememberUrl(name, url);
        infos[index] = queueInfo(name, url, out.Attributes ?? {});
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, urls.length) }, worker));
  return infos.filter((i): i is QueueInfo => i !== null).sort((a, b) => a.name.localeCompare(b.name));
}

export async function loadQueue(connection: SqsConnection, name: string, signal?: AbortSignal): Promise<QueueInfo> {
  const url = await connection.queueUrl(name, signal);
  return queueInfo(name, url, await connection.attributes(name, ['All'], signal));
}

export interface DeadLetterMap {
  /** DLQ name → the queues that dead-letter into it, and how each link was found. */
  sources: Map<string, { origins: string[]; via: string }>;
  /** Queue name → its DLQ (RedrivePolicy first, else Mailroom's naming convention). */
  targets: Map<string, string>;
}

/** DLQ links from every queue's RedrivePolicy, plus `<queue><suffix>` queues by naming convention. */
export function deadLetterMap(queues: QueueInfo[], suffix: string): DeadLetterMap {
  const names = new Set(queues.map((q) => q.name));
  const sources = new Map<string, { origins: string[]; via: string }>();
  const targets = new Map<string, string>();
  const link = (origin: string, dlq: string, via: string) => {
    targets.set(origin, dlq);
    const entry = sources.get(dlq) ?? { origins: [], via };
    entry.origins.push(origin);
    if (entry.via !== via && !entry.via.includes(via)) entry.via = `${entry.via}, ${via}`;
    sources.set(dlq, entry);
  };
  for (const q of queues) if (q.redrivePolicy) link(q.name, q.redrivePolicy.deadLetter, 'RedrivePolicy');
  for (const q of queues) {
    if (q.redrivePolicy || sources.has(q.name)) continue;
    let conventional: string;
    try {
      conventional = deadLetterName(q.name, suffix);
    } catch {
      continue;
    }
    if (conventional !== q.name && names.has(conventional)) link(q.name, conventional, 'naming convention');
  }
  return { sources, targets };
}

function displayAttributes(info: QueueInfo): Record<string, AttributeValue> {
  const a = info.attributes;
  const out: Record<string, AttributeValue> = {
    type: isFifoName(info.name) ? 'fifo' : 'standard',
    url: info.url,
    arn: info.arn,
    delayed: numberOrNull(a['ApproximateNumberOfMessagesDelayed']),
    visibilityTimeoutSeconds: numberOrNull(a['VisibilityTimeout']),
    delaySeconds: numberOrNull(a['DelaySeconds']),
    retentionSeconds: numberOrNull(a['MessageRetentionPeriod']),
    maximumMessageSize: numberOrNull(a['MaximumMessageSize']),
    receiveWaitSeconds: numberOrNull(a['ReceiveMessageWaitTimeSeconds']),
    maxReceiveCount: info.redrivePolicy?.maxReceiveCount ?? null,
  };
  if (isFifoName(info.name)) {
    out['contentBasedDeduplication'] = a['ContentBasedDeduplication'] === 'true';
    if (a['DeduplicationScope']) out['deduplicationScope'] = a['DeduplicationScope'];
    if (a['FifoThroughputLimit']) out['fifoThroughputLimit'] = a['FifoThroughputLimit'];
  }
  return out;
}

export function summaryOf(info: QueueInfo, map: DeadLetterMap): DestinationSummary {
  const sources = map.sources.get(info.name);
  return {
    name: info.name,
    kind: 'queue',
    depth: numberOrNull(info.attributes['ApproximateNumberOfMessages']),
    inFlight: numberOrNull(info.attributes['ApproximateNumberOfMessagesNotVisible']),
    partitions: null,
    consumers: null,
    lag: null,
    publishRate: null,
    deliverRate: null,
    isDeadLetter: sources !== undefined,
    deadLetter: info.redrivePolicy?.deadLetter ?? map.targets.get(info.name) ?? null,
    deadLetterSources: sources ? [...sources.origins].sort() : [],
    attributes: displayAttributes(info),
    deliveryDelayMs: delayMsOf(info),
  };
}

function delayMsOf(info: QueueInfo): number | null {
  const seconds = numberOrNull(info.attributes['DelaySeconds']);
  return seconds !== null && seconds > 0 ? seconds * 1000 : null;
}

/** The queues whose RedrivePolicy names `dlq`, from ListDeadLetterSourceQueues (paginated). */
export async function deadLetterSourceQueues(connection: SqsConnection, dlq: string, url: string, signal?: AbortSignal): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const out = await connection.run(
      `ListDeadLetterSourceQueues ${dlq}`,
      (o) => connection.client.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: url, MaxResults: 1000, ...(token ? { NextToken: token } : {}) }), o),
      signal ? { signal } : {},
    );
    names.push(...(out.queueUrls ?? []).map(queueNameFromUrl));
    nextToken = out.NextToken;
  } while (nextToken);
  return names;
}

export async function describeQueue(connection: SqsConnection, name: string, suffix: string): Promise<DestinationDetail> {
  validateQueueName(name);
  const info = await loadQueue(connection, name);
  let origins: string[];
  let via = 'RedrivePolicy';
  try {
    origins = await deadLetterSourceQueues(connection, name, info.url);
  } catch (error) {
    if (!(error instanceof UnsupportedError)) throw error;
    origins = deadLetterMap(await loadQueues(connection), suffix).sources.get(name)?.origins ?? [];
  }
  const map: DeadLetterMap = { sources: new Map(), targets: new Map() };
  if (origins.length > 0) map.sources.set(name, { origins, via });
  else {
    // Mailroom's naming convention: `<origin><suffix>` is the DLQ of an existing `<origin>`.
    const origin = conventionalOrigin(name, suffix);
    if (origin !== null) {
      try {
        const originInfo = await loadQueue(connection, origin);
        if (!originInfo.redrivePolicy) {
          via = 'naming convention';
          map.sources.set(name, { origins: [origin], via });
        }
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
  }
  if (!info.redrivePolicy) {
    try {
      const conventional = deadLetterName(name, suffix);
      if (conventional !== name) {
        await connection.queueUrl(conventional);
        map.targets.set(name, conventional);
      }
    } catch (error) {
      if (!(error instanceof NotFoundError) && !(error instanceof InvalidInputError)) throw error;
    }
  }
  return { ...summaryOf(info, map), partitionDetails: [], config: { ...info.attributes } };
}

/** `orders-dlq` → `orders`, `jobs-dlq.fifo` → `jobs.fifo`; null when the name does not follow the convention. */
export function conventionalOrigin(dlq: string, suffix: string): string | null {
  const fifo = isFifoName(dlq);
  const base = fifo ? dlq.slice(0, -'.fifo'.length) : dlq;
  if (!base.endsWith(suffix) || base.length === suffix.length) return null;
  return `${base.slice(0, -suffix.length)}${fifo ? '.fifo' : ''}`;
}

export async function createQueue(connection: SqsConnection, name: string, options: CreateDestinationOptions = {}): Promise<void> {
  validateQueueName(name);
  if (options.partitions !== undefined && options.partitions !== 1) {
    throw new InvalidInputError(`SQS queues have no partitions; asked for ${options.partitions}`, { hint: 'Leave partitions unset or 1.' });
  }
  const type = options.type ?? (isFifoName(name) ? 'fifo' : 'standard');
  if (type !== 'standard' && type !== 'fifo') throw new InvalidInputError(`SQS queue type must be 'standard' or 'fifo', got ${JSON.stringify(type)}`);
  if ((type === 'fifo') !== isFifoName(name)) {
    throw new InvalidInputError(
      type === 'fifo' ? `A FIFO queue's name must end in ".fifo": ${name}` : `A queue named ${name} must be FIFO (names ending in ".fifo" are FIFO queues)`,
    );
  }
  const attributes: Record<string, string> = {};
  if (type === 'fifo') attributes['FifoQueue'] = 'true';
  if (options.deadLetter) {
    const { destination, maxDeliveries } = options.deadLetter;
    validateQueueName(destination);
    if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1 || maxDeliveries > 1000) {
      throw new InvalidInputError(`maxDeliveries must be an integer from 1 to 1000 (SQS maxReceiveCount), got ${maxDeliveries}`);
    }
    if (isFifoName(destination) !== isFifoName(name)) {
      throw new InvalidInputError(`The dead-letter queue of a ${type} queue must be ${type} too: ${destination}`);
    }
    const dlqArn = (await connection.attributes(destination, ['QueueArn']))['QueueArn'];
    if (!dlqArn) throw new NotFoundError(`SQS did not return the ARN of ${destination}`);
    attributes['RedrivePolicy'] = JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: maxDeliveries });
  }
  const out = await connection.run(`CreateQueue ${name}`, (o) => connection.client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }), o));
  if (out.QueueUrl) connection.rememberUrl(name, out.QueueUrl);
}

export async function deleteQueue(connection: SqsConnection, name: string): Promise<void> {
  const url = await connection.queueUrl(name);
  try {
    await connection.run(`DeleteQueue ${name}`, (o) => connection.client.send(new DeleteQueueCommand({ QueueUrl: url }), o));
  } finally {
    connection.forget(name);
  }
}

/** PurgeQueue. SQS does not say how many messages it removed, so the count is null. */
export async function purgeQueue(connection: SqsConnection, name: string): Promise<null> {
  const url = await connection.queueUrl(name);
  await connection.run(`PurgeQueue ${name}`, (o) => connection.client.send(new PurgeQueueCommand({ QueueUrl: url }), o));
  return null;
}

export function deadLetterLinks(queues: QueueInfo[], suffix: string): DeadLetterLink[] {
  const map = deadLetterMap(queues, suffix);
  const byName = new Map(queues.map((q) => [q.name, q]));
  return [...map.sources.entries()]
    .map(([dlq, { origins, via }]) => ({
      deadLetter: dlq,
      origins: [...origins].sort(),
      depth: numberOrNull(byName.get(dlq)?.attributes['ApproximateNumberOfMessages']),
      via,
    }))
    .sort((a, b) => a.deadLetter.localeCompare(b.deadLetter));
}
