import { ClientClosedError, type Message, type MessageProducer } from '@mailroom/core';
import type { Arg, Connection } from './connection';
import { encodeFields } from './codec';
import { validateStreamName } from './names';

/** Largest number of XADDs sent in one MULTI. */
const BATCH_CHUNK = 500;

export function xaddArgs(stream: string, fields: Arg[], maxLen: number | null): Arg[] {
  return maxLen === null ? [stream, '*', ...fields] : [stream, 'MAXLEN', '~', maxLen, '*', ...fields];
}

/** Appends entries with XADD; a batch goes in MULTI/EXEC chunks so each chunk lands whole. */
export async function appendEntries(connection: Connection, stream: string, entries: Arg[][], maxLen: number | null): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < entries.length; i += BATCH_CHUNK) {
    const chunk = entries.slice(i, i + BATCH_CHUNK);
    if (chunk.length === 1) {
      ids.push(String(await connection.call(`XADD to ${stream}`, 'XADD', xaddArgs(stream, chunk[0]!, maxLen))));
      continue;
    }
    const results = await connection.transaction(
      `XADD to ${stream}`,
      chunk.map((fields) => ['XADD', ...xaddArgs(stream, fields, maxLen)] as [string, ...Arg[]]),
    );
    for (const id of results) ids.push(String(id));
  }
  return ids;
}

export class RedisProducer implements MessageProducer {
  private closed = false;

  constructor(
    private readonly connection: Connection,
    private readonly maxLen: number | null,
    private readonly onClose: (producer: RedisProducer) => void,
  ) {}

  async send(topic: string, message: Message): Promise<void> {
    await this.sendBatch(topic, [message]);
  }

  async sendBatch(topic: string, messages: Message[]): Promise<void> {
    if (this.closed) throw new ClientClosedError('Redis producer');
    validateStreamName(topic);
    if (messages.length === 0) return;
    await appendEntries(this.connection, topic, messages.map(encodeFields), this.maxLen);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
  }
}
