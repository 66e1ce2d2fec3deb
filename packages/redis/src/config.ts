import { InvalidInputError } from '@mailroom/core';

export interface RedisAdapterConfig {
  /** redis://[user:password@]host:port[/db]. Default redis://127.0.0.1:6379. */
  url?: string;
  /** Give up connecting after this long. Default 3000. */
  connectTimeoutMs?: number;
  /** A non-blocking command that gets no reply within this long fails with BrokerUnavailableError. Default 5000. */
  commandTimeoutMs?: number;
  /**
   * DLQ naming convention: `{stream}` is replaced by the stream name. Default `{stream}:dlq`.
   * The reverse mapping (which stream a DLQ belongs to) is derived from the same template.
   */
  deadLetterTemplate?: string;
  /**
   * Pending entries idle this long are taken to belong to a dead consumer and are reclaimed
   * (XAUTOCLAIM) by the next poll of any consumer of the group. Live Mailroom consumers refresh
   * the idle time of what they hold, so a slow handler is not mistaken for a dead one. Default 15000.
   */
  reclaimIdleMs?: number;
  /**
   * After this many deliveries without an ack, a reclaimed entry is moved to the DLQ stream
   * instead of being delivered again (with dlq:* fields naming origin, id, count, reason).
   * Null (default): never; use core's handleWithRetry for application-level dead-lettering.
   */
  maxDeliveries?: number | null;
  /** `MAXLEN ~ n` applied by Mailroom's producers and publish; null (default) never trims. */
  maxLen?: number | null;
  /** Where a new consumer group starts: at the end ('$', default) or at the first entry. */
  newGroupStart?: 'end' | 'beginning';
  /** Keys matched when listing streams (SCAN MATCH). Default '*'. */
  keyPattern?: string;
  /** SCAN COUNT per call when discovering streams, so Redis is never blocked for long. Default 500. */
  scanCount?: number;
  /** A group member counts as active when Redis saw it within this many ms. Default 30000. */
  activeConsumerMs?: number;
  /** Entries a filtered browse examines at most per page. Default 10000. */
  browseScanBudget?: number;
  /** Name prefix of the connections in CLIENT LIST. Default 'mailroom'. */
  connectionName?: string;
}

export interface ResolvedConfig {
  url: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  deadLetterTemplate: string;
  reclaimIdleMs: number;
  maxDeliveries: number | null;
  maxLen: number | null;
  newGroupStart: 'end' | 'beginning';
  keyPattern: string;
  scanCount: number;
  activeConsumerMs: number;
  browseScanBudget: number;
  connectionName: string;
}

function positiveInt(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new InvalidInputError(`${what} must be a positive integer, got ${value}`);
  return value;
}

function optionalPositiveInt(value: number | null | undefined, what: string): number | null {
  if (value === undefined || value === null) return null;
  return positiveInt(value, 1, what);
}

export function resolveConfig(config: RedisAdapterConfig): ResolvedConfig {
  const template = config.deadLetterTemplate ?? '{stream}:dlq';
  if (template.split('{stream}').length !== 2 || template === '{stream}') {
    throw new InvalidInputError(`deadLetterTemplate must contain {stream} exactly once plus a prefix or suffix, got ${JSON.stringify(template)}`);
  }
  return {
    url: config.url ?? 'redis://127.0.0.1:6379',
    connectTimeoutMs: positiveInt(config.connectTimeoutMs, 3000, 'connectTimeoutMs'),
    commandTimeoutMs: positiveInt(config.commandTimeoutMs, 5000, 'commandTimeoutMs'),
    deadLetterTemplate: template,
    reclaimIdleMs: positiveInt(config.reclaimIdleMs, 15_000, 'reclaimIdleMs'),
    maxDeliveries: optionalPositiveInt(config.maxDeliveries, 'maxDeliveries'),
    maxLen: optionalPositiveInt(config.maxLen, 'maxLen'),
    newGroupStart: config.newGroupStart ?? 'end',
    keyPattern: config.keyPattern ?? '*',
    scanCount: positiveInt(config.scanCount, 500, 'scanCount'),
    activeConsumerMs: positiveInt(config.activeConsumerMs, 30_000, 'activeConsumerMs'),
    browseScanBudget: positiveInt(config.browseScanBudget, 10_000, 'browseScanBudget'),
    connectionName: config.connectionName ?? 'mailroom',
  };
}

function envInt(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Reads REDIS_URL (default redis://127.0.0.1:6379), plus optional REDIS_DLQ_TEMPLATE,
 * REDIS_RECLAIM_IDLE_MS, REDIS_MAX_DELIVERIES, REDIS_MAXLEN, REDIS_KEY_PATTERN.
 */
export function fromRedisEnv(env: Record<string, string | undefined> = process.env): RedisAdapterConfig {
  const config: RedisAdapterConfig = { url: env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' };
  const template = env['REDIS_DLQ_TEMPLATE'];
  if (template) config.deadLetterTemplate = template;
  const reclaim = envInt(env['REDIS_RECLAIM_IDLE_MS']);
  if (reclaim !== undefined) config.reclaimIdleMs = reclaim;
  const maxDeliveries = envInt(env['REDIS_MAX_DELIVERIES']);
  if (maxDeliveries !== undefined) config.maxDeliveries = maxDeliveries;
  const maxLen = envInt(env['REDIS_MAXLEN']);
  if (maxLen !== undefined) config.maxLen = maxLen;
  const pattern = env['REDIS_KEY_PATTERN'];
  if (pattern) config.keyPattern = pattern;
  return config;
}
