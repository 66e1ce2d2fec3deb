import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { ClientClosedError } from '@mailroom/core';
import type { ResolvedConfig } from './config';
import { isReplyError, toMailroomError } from './errors';

export type Arg = string | number | Buffer;

export interface LuaScript {
  source: string;
  sha: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * One ioredis connection with Mailroom's failure rules: bounded connect and command times,
 * one retry per request, errors mapped to core's typed errors, and no reconnecting after
 * `disconnect()`. 'blocking' connections carry long XREAD/XREADGROUP BLOCK calls, so they
 * have no command timeout; ioredis' blockingTimeout guards them instead (BLOCK + grace).
 */
export class Connection {
  readonly client: Redis;
  private closed = false;
  lastError: Error | null = null;

  constructor(
    config: ResolvedConfig,
    purpose: 'commands' | 'blocking',
    private readonly owner: string,
  ) {
    this.client = new Redis(config.url, {
      protocol: 2,
      lazyConnect: true,
      connectTimeout: config.connectTimeoutMs,
      commandTimeout: purpose === 'commands' ? config.commandTimeoutMs : undefined,
      blockingTimeout: purpose === 'blocking' ? 60_000 : undefined,
      blockingTimeoutGrace: 2_000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      autoResendUnfulfilledCommands: false,
      connectionName: `${config.connectionName}-${purpose}`,
      disableClientInfo: true,
      retryStrategy: (times) => (this.closed ? null : Math.min(times * 200, 2_000)),
    });
    // Errors surface through the rejected commands; the event only needs a listener so
    // ioredis does not print "Unhandled error event" while Redis is down.
    this.client.on('error', (error: Error) => {
      this.lastError = error;
    });
  }

  /** Connected and ready now (a best-effort step can be skipped instead of waiting for a reconnect). */
  get isReady(): boolean {
    return !this.closed && this.client.status === 'ready';
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private guard(): void {
    if (this.closed) throw new ClientClosedError(this.owner);
  }

  /** A command with string replies. */
  async call(what: string, command: string, args: Arg[]): Promise<unknown> {
    this.guard();
    try {
      return await this.client.call(command, args);
    } catch (error) {
      throw this.closed ? new ClientClosedError(this.owner) : toMailroomError(error, what);
    }
  }

  /** A command with Buffer replies, for anything that returns entry fields. */
  async callBuffer(what: string, command: string, args: Arg[]): Promise<unknown> {
    this.guard();
    try {
      return await this.client.callBuffer(command, args);
    } catch (error) {
      throw this.closed ? new ClientClosedError(this.owner) : toMailroomError(error, what);
    }
  }

  /** Runs a Lua script by SHA, loading it on the first NOSCRIPT. Replies are Buffers. */
  async script(what: string, script: LuaScript, keys: Arg[], args: Arg[]): Promise<unknown> {
    this.guard();
    try {
      try {
        return await this.client.callBuffer('EVALSHA', [script.sha, keys.length, ...keys, ...args]);
      } catch (error) {
        if (!isReplyError(error, 'NOSCRIPT')) throw error;
        return await this.client.callBuffer('EVAL', [script.source, keys.length, ...keys, ...args]);
      }
    } catch (error) {
      throw this.closed ? new ClientClosedError(this.owner) : toMailroomError(error, what);
    }
  }

  /** Runs the commands in one MULTI/EXEC; any failing command fails the whole call. */
  async transaction(what: string, commands: [string, ...Arg[]][]): Promise<unknown[]> {
    this.guard();
    try {
      const multi = this.client.multi();
      for (const [command, ...args] of commands) multi.call(command, ...args);
      const results = await multi.exec();
      if (results === null) throw new Error('transaction aborted');
      return results.map(([error, value]) => {
        if (error) throw error;
        return value;
      });
    } catch (error) {
      throw this.closed ? new ClientClosedError(this.owner) : toMailroomError(error, what);
    }
  }

  /** Sends the commands in one round trip; returns each command's reply or error. */
  async pipeline(what: string, commands: [string, ...Arg[]][], buffers = false): Promise<[Error | null, unknown][]> {
    this.guard();
    try {
      const pipeline = this.client.pipeline();
      for (const [command, ...args] of commands) {
        if (buffers) pipeline.callBuffer(command, ...args);
        else pipeline.call(command, ...args);
      }
      const results = (await pipeline.exec()) ?? [];
      return results.map(([error, value]) => [error ? toMailroomError(error, what) : null, value]);
    } catch (error) {
      throw this.closed ? new ClientClosedError(this.owner) : toMailroomError(error, what);
    }
  }

  /** Stops for good: pending commands fail, and no reconnect is attempted. */
  disconnect(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.disconnect(false);
  }
}
