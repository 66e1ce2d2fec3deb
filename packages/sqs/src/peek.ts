import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import {
  ConflictError,
  InvalidInputError,
  MAX_PAGE_SIZE,
  UnsupportedError,
  sleep,
  type BrowsePage,
  type BrowseRequest,
  type StoredMessage,
  type TailBatch,
  type TailRequest,
} from '@mailroom/core';
import { Aborted, type SqsConnection } from './connection';
import { queueContext } from './context';
import { validateQueueName } from './names';
import { loadQueue, type QueueInfo } from './queues';
import { receive } from './receive';
import { receiveCount, sentAt } from './received';
import { toStoredMessage } from './stored';
import { release, type HeldMessage } from './visibility';

export const PEEK_WARNING =
  'SQS has no read-only peek: reading a message is a receive. It raises the message ApproximateReceiveCount by one, ' +
  'and on a queue with a redrive policy a message that reaches maxReceiveCount goes to the dead-letter queue on its next receive. ' +
  'Mailroom stops (unless forced) as soon as a peeked message is one receive away from that, and makes every peeked message visible again right away.';

/**
 * The peek guard. After a receive, a message whose ApproximateReceiveCount is ≥ maxReceiveCount − 1
 * has at most one delivery left: peeking it again (or having peeked it once more) would send it to
 * the DLQ instead of to a consumer. Counts are only known after receiving, so the guard cannot
 * prevent the one receive that reveals the count; it bounds the harm to that receive.
 */
function atRisk(message: SqsMessage, maxReceiveCount: number | null): boolean {
  if (maxReceiveCount === null) return false;
  const count = receiveCount(message);
  return count !== null && count >= maxReceiveCount - 1;
}

function refuseBeforeReading(info: QueueInfo, force: boolean, what: string): void {
  const policy = info.redrivePolicy;
  if (!force && policy && policy.maxReceiveCount <= 1) {
    throw new ConflictError(
      `Refusing to ${what} ${info.name}: its redrive policy moves a message to ${policy.deadLetter} after ${policy.maxReceiveCount} receive, so reading any message would use up its only delivery`,
      { hint: 'Read with force to accept that, or read the dead-letter queue instead.' },
    );
  }
}

function riskError(info: QueueInfo, messages: SqsMessage[], what: string): ConflictError {
  const policy = info.redrivePolicy!;
  const ids = messages.map((m) => `${m.MessageId} (receive count ${receiveCount(m)})`).slice(0, 5);
  return new ConflictError(
    `Stopped the ${what} of ${info.name}: ${messages.length} message(s) reached receive count ≥ ${policy.maxReceiveCount - 1} of maxReceiveCount ${policy.maxReceiveCount}; ` +
      `one more receive moves them to ${policy.deadLetter}: ${ids.join(', ')}`,
    { hint: `Reading further would push messages into the dead-letter queue. Use force to read anyway.` },
  );
}

function checkPartition(partition: number | null | undefined): void {
  if (partition !== undefined && partition !== null && partition !== 0) {
    throw new InvalidInputError(`SQS queues have no partitions; got partition ${partition}`);
  }
}

/**
 * A browse is one scan: receive (holding messages invisible so the scan sees each message once),
 * then make every one of them visible again. SQS has no positions, no time index and no stable
 * order, so there is one page only; it is sorted by sent time.
 */
export async function browseQueue(connection: SqsConnection, request: BrowseRequest, suffix: string): Promise<BrowsePage> {
  validateQueueName(request.destination);
  checkPartition(request.partition);
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > MAX_PAGE_SIZE) {
    throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${request.limit}`);
  }
  if (request.cursor !== undefined && request.cursor !== null) {
    throw new InvalidInputError('SQS browse has a single page: there is no next page to continue from.', { hint: 'Browse again from the start.' });
  }
  if (request.start.from === 'position' || request.start.from === 'timestamp') {
    throw new UnsupportedError(`SQS cannot browse from a ${request.start.from}: queues have no offsets and no time index`, {
      hint: 'Browse from newest or oldest; SQS returns a sample of the visible messages.',
    });
  }
  const force = request.force === true;
  const info = await loadQueue(connection, request.destination, request.signal);
  refuseBeforeReading(info, force, 'browse');
  const context = await queueContext(connection, info, suffix, request.signal);
  const maxReceiveCount = info.redrivePolicy?.maxReceiveCount ?? null;
  const hold = connection.config.peekHoldSeconds;
  const deadline = Date.now() + connection.config.browseBudgetMs;
  const scanLimit = Math.max(request.limit, connection.config.browseScanLimit);

  const held = new Map<string, HeldMessage>();
  const risky: SqsMessage[] = [];
  const page: StoredMessage[] = [];
  let scanned = 0;
  // First a single message: if the queue's messages are near maxReceiveCount, only one is touched.
  let batch = maxReceiveCount === null ? 10 : 1;
  try {
    while (page.length < request.limit && scanned < scanLimit && Date.now() < deadline && !request.signal?.aborted) {
      let got: SqsMessage[];
      try {
        got = await receive(connection, info.name, info.url, {
          max: Math.min(batch, scanLimit - scanned),
          waitSeconds: 1,
          visibilityTimeout: hold,
          ...(request.signal ? { signal: request.signal } : {}),
        });
      } catch (error) {
        if (error instanceof Aborted) break;
        throw error;
      }
      batch = 10;
      if (got.length === 0) break;
      let wrapped = false;
      for (const message of got) {
        if (!message.MessageId || !message.ReceiptHandle) continue;
        const seen = held.has(message.MessageId);
        held.set(message.MessageId, { queue: info.name, url: info.url, messageId: message.MessageId, receiptHandle: message.ReceiptHandle });
        if (seen) {
          wrapped = true; // held longer than the hold time: the scan came round again
          continue;
        }
        scanned++;
        if (atRisk(message, maxReceiveCount)) risky.push(message);
        const stored = toStoredMessage(message, context);
        if (page.length < request.limit && (!request.filter || request.filter(stored))) page.push(stored);
      }
      if (wrapped || (risky.length > 0 && !force)) break;
    }
  } finally {
    await release(connection, [...held.values()]);
  }
  if (risky.length > 0 && !force) throw riskError(info, risky, 'browse');

  const newestFirst = request.start.from === 'newest';
  page.sort((a, b) => (newestFirst ? b.timestamp.getTime() - a.timestamp.getTime() : a.timestamp.getTime() - b.timestamp.getTime()));
  const warnings = [
    `SQS has no read-only peek: the ${scanned} message(s) read had their receive count raised by one and were hidden from consumers for the few seconds of the browse.`,
    'SQS returns messages in no particular order and has no positions: this is one sample of the visible messages (in-flight and delayed messages are not visible), sorted by sent time.',
  ];
  if (info.redrivePolicy) {
    warnings.push(`${info.name} moves a message to ${info.redrivePolicy.deadLetter} after ${info.redrivePolicy.maxReceiveCount} receives; every peek uses one of them.`);
  }
  if (risky.length > 0) {
    warnings.push(`Forced: ${risky.length} message(s) are now one receive (or none) away from ${info.redrivePolicy?.deadLetter ?? 'the dead-letter queue'}.`);
  }
  if (request.filter) warnings.push(`The filter examined ${scanned} message(s).`);
  return { messages: page, nextCursor: null, scanned, destructive: held.size > 0, warnings };
}

class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
  }
}

/**
 * Live tail by long-polling with VisibilityTimeout 0, so consumers are not held up. It shows
 * messages sent after the tail started, each once. Every receive raises receive counts like a
 * peek, so the same guard applies; when receives return only messages already shown (a backlog
 * nobody consumes), the tail slows down instead of spinning on them.
 */
export async function* tailQueue(connection: SqsConnection, request: TailRequest, suffix: string): AsyncGenerator<TailBatch> {
  validateQueueName(request.destination);
  checkPartition(request.partition);
  const maxBatch = request.maxBatch ?? 500;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new InvalidInputError(`maxBatch must be a positive integer, got ${maxBatch}`);
  const force = request.force === true;
  const signal = request.signal;
  const info = await loadQueue(connection, request.destination, signal);
  refuseBeforeReading(info, force, 'tail');
  const context = await queueContext(connection, info, suffix, signal);
  const maxReceiveCount = info.redrivePolicy?.maxReceiveCount ?? null;
  // Clock slack: SentTimestamp is the broker's clock.
  const startedAt = Date.now() - 1000;
  const shown = new RecentIds(50_000);
  let idleRounds = 0;
  request.onReady?.();

  const receiveSome = async (waitSeconds: number) => {
    try {
      return await receive(connection, info.name, info.url, { max: 10, waitSeconds, visibilityTimeout: 0, signal });
    } catch (error) {
      if (error instanceof Aborted) return null;
      throw error;
    }
  };

  while (!signal.aborted) {
    const first = await receiveSome(20);
    if (first === null) return;
    const received = [...first];
    // Collect a little more for up to 100 ms when messages are flowing: batches, not single messages.
    const flushAt = Date.now() + 100;
    let last = first.length;
    while (last === 10 && received.length < maxBatch && Date.now() < flushAt) {
      const more = await receiveSome(0);
      if (more === null) return;
      received.push(...more);
      last = more.length;
    }
    const fresh: StoredMessage[] = [];
    const risky: SqsMessage[] = [];
    for (const message of received) {
      const id = message.MessageId;
      if (!id) continue;
      if (atRisk(message, maxReceiveCount)) risky.push(message);
      if (shown.has(id)) continue;
      shown.add(id);
      if (sentAt(message).getTime() < startedAt) continue;
      const stored = toStoredMessage(message, context);
      if (!request.filter || request.filter(stored)) fresh.push(stored);
    }
    for (let i = 0; i < fresh.length; i += maxBatch) yield { messages: fresh.slice(i, i + maxBatch), skipped: 0 };
    if (risky.length > 0 && !force) throw riskError(info, risky, 'tail');
    if (received.length > 0 && fresh.length === 0) {
      idleRounds++;
      await sleep(Math.min(5000, 250 * 2 ** Math.min(idleRounds, 5)), signal);
    } else idleRounds = 0;
  }
}
