import type { IdempotentStats } from './idempotent';

/**
 * What a consumer built on the idempotent wrapper tells Mailroom, so the idempotent_consumers
 * criterion can count the duplicates it skipped. Counters run since `since` (the consumer's
 * start): each report replaces the previous one of the same consumer.
 */
export interface ConsumerStatsReport {
  /** The Mailroom connection id of the broker the consumer reads. */
  connectionId: string;
  destination: string;
  /** The consumer group (subscription); null where the broker has none (a plain SQS queue). */
  group: string | null;
  /** One consumer instance (e.g. host and pid): instances of a group add up. */
  consumer: string;
  handled: number;
  duplicates: number;
  withoutIdentity: number;
  since: string;
}

export type ConsumerIdentity = Pick<ConsumerStatsReport, 'connectionId' | 'destination' | 'group' | 'consumer'>;

export function consumerStatsReport(who: ConsumerIdentity, stats: IdempotentStats, since: Date): ConsumerStatsReport {
  return { ...who, handled: stats.handled, duplicates: stats.duplicates, withoutIdentity: stats.withoutIdentity, since: since.toISOString() };
}

export interface StatsReporterOptions {
  who: ConsumerIdentity;
  stats: IdempotentStats;
  /** Delivers the report (e.g. a POST to Mailroom's /api/consumer-stats); injected so core does no I/O. */
  send: (report: ConsumerStatsReport) => Promise<void>;
  intervalMs?: number;
  /** A failed send is reported here and retried at the next interval; the consumer never fails for it. */
  onError?: (error: unknown) => void;
}

export interface StatsReporter {
  /** Sends the current counters now. */
  flush(): Promise<void>;
  /** Stops the timer after one last report. */
  stop(): Promise<void>;
}

/** Reports a consumer's dedupe counters every `intervalMs` (30 s by default) until stopped. */
export function startStatsReporter(options: StatsReporterOptions): StatsReporter {
  const intervalMs = options.intervalMs ?? 30_000;
  if (!Number.isFinite(intervalMs) || intervalMs < 100) throw new RangeError(`intervalMs must be at least 100, got ${intervalMs}`);
  const since = new Date();
  let sending: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    sending = sending.then(async () => {
      try {
        await options.send(consumerStatsReport(options.who, options.stats, since));
      } catch (error) {
        options.onError?.(error);
      }
    });
    return sending;
  };
  const timer = setInterval(() => void flush(), intervalMs);
  // A reporter alone must not keep a process alive (Node); browsers have no unref.
  (timer as { unref?: () => void }).unref?.();
  let stopped: Promise<void> | null = null;
  return {
    flush,
    stop() {
      clearInterval(timer);
      stopped ??= flush();
      return stopped;
    },
  };
}
