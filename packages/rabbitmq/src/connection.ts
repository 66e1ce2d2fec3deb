import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';
import { BrokerUnavailableError, ClientClosedError, withTimeout } from '@mailroom/core';
import type { ResolvedConfig } from './config';
import { mapAmqpError } from './errors';

function connectOptions(config: ResolvedConfig): Options.Connect {
  const url = new URL(config.url);
  const secure = url.protocol === 'amqps:';
  return {
    protocol: secure ? 'amqps' : 'amqp',
    hostname: url.hostname,
    port: url.port === '' ? (secure ? 5671 : 5672) : Number(url.port),
    username: url.username === '' ? 'guest' : decodeURIComponent(url.username),
    password: url.password === '' ? 'guest' : decodeURIComponent(url.password),
    vhost: config.vhost,
    heartbeat: config.heartbeatSeconds,
  };
}

/**
 * Opens one AMQP connection that fails fast: the socket `timeout` bounds connect + handshake,
 * and a second timer covers anything amqplib does not. Connections carry a recognisable
 * `connection_name` (`<connectionName>/<role>`) so an operator can find (or close) them.
 * 'error' is always handled: a dropped connection never crashes the process.
 */
export async function openConnection(config: ResolvedConfig, role: string): Promise<ChannelModel> {
  const connectionName = `${config.connectionName}/${role}`;
  const attempt = amqp.connect(connectOptions(config), {
    timeout: config.connectTimeoutMs,
    noDelay: true,
    clientProperties: { connection_name: connectionName },
  });
  let timedOut = false;
  attempt.then(
    (late) => {
      if (timedOut) late.close().catch(() => undefined);
    },
    () => undefined,
  );
  try {
    const connection = await withTimeout(attempt, config.connectTimeoutMs + 500, `RabbitMQ at ${connectOptions(config).hostname}`);
    connection.on('error', () => undefined);
    return connection;
  } catch (error) {
    timedOut = true;
    if (error instanceof BrokerUnavailableError) throw error;
    throw mapAmqpError(error, `connect to RabbitMQ (${connectionName})`);
  }
}

/** Adds an 'error' listener: a server-closed channel rejects the pending operation, never crashes the process. */
export function guardChannel<T extends Channel>(channel: T): T {
  channel.on('error', () => undefined);
  return channel;
}

export async function closeQuietly(closable: { close(): Promise<void> } | null | undefined): Promise<void> {
  if (!closable) return;
  try {
    await closable.close();
  } catch {
    // already closed by the server or by a lost connection
  }
}

/**
 * A lazily opened connection that reopens after it was lost. Operations run on a channel of
 * their own, so a channel error (404 on a missing queue closes the channel) affects nothing else.
 */
export class ConnectionHolder {
  private pending: Promise<ChannelModel> | null = null;
  private closed = false;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly role: string,
    private readonly what: string,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  connection(): Promise<ChannelModel> {
    if (this.closed) return Promise.reject(new ClientClosedError(this.what));
    if (!this.pending) {
      const opening = openConnection(this.config, this.role);
      this.pending = opening;
      opening.then(
        (connection) => {
          connection.on('close', () => {
            if (this.pending === opening) this.pending = null;
          });
          if (this.closed) void closeQuietly(connection);
        },
        () => {
          if (this.pending === opening) this.pending = null;
        },
      );
    }
    return this.pending;
  }

  async channel(): Promise<Channel> {
    const connection = await this.connection();
    try {
      return guardChannel(await connection.createChannel());
    } catch (error) {
      throw mapAmqpError(error, 'open a channel');
    }
  }

  async confirmChannel(): Promise<ConfirmChannel> {
    const connection = await this.connection();
    try {
      return guardChannel(await connection.createConfirmChannel());
    } catch (error) {
      throw mapAmqpError(error, 'open a confirm channel');
    }
  }

  /** Runs `run` on a fresh channel, closed afterwards; errors come back typed, within the request timeout. */
  async withChannel<T>(what: string, run: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await this.channel();
    try {
      return await withTimeout(run(channel), this.config.requestTimeoutMs, `RabbitMQ (${what})`);
    } catch (error) {
      if (this.closed) throw new ClientClosedError(this.what);
      throw mapAmqpError(error, what);
    } finally {
      void closeQuietly(channel);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending = this.pending;
    this.pending = null;
    if (pending) {
      try {
        await closeQuietly(await pending);
      } catch {
        // never connected
      }
    }
  }
}
