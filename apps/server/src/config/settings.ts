import type { AlertRule } from '../fitness/alert-rules';
import type { ReporterToken } from '../fitness/consumer-stats-routes';
import type { SecuritySettings } from '../security/settings';
import type { ConnectionConfig } from './schema';

/** Everything the app runs with, resolved from defaults, the config file, the environment and createApp options. */
export interface ServerSettings {
  connections: ConnectionConfig[];
  dataDir: string;
  host: string;
  port: number;
  /** Built SPA served at /, when the folder exists. */
  webDist: string | null;
  production: boolean;
  /** Path of the config file that was loaded, for /readyz and logs. */
  configPath: string | null;
  health: { intervalMs: number; timeoutMs: number; maxBackoffMs: number };
  /** Default time limit of one adapter call made by a procedure. */
  callTimeoutMs: number;
  destinationsCacheTtlMs: number;
  metricsIntervalMs: number;
  tail: TailSettings;
  alerts: AlertRule[];
  fitness: FitnessSettings;
  /** Sign-in, roles, global read-only, masking, limits, audit (issue 12). */
  security: SecuritySettings;
}

export interface FitnessSettings {
  /** A delivery unacknowledged for longer than this counts against message_acknowledgment. */
  ackDeadlineMs: number;
  /** Messages sampled per destination (only where reads have no side effects). */
  sampleSize: number;
  /** How long a connection's fitness report is reused. */
  cacheTtlMs: number;
  /** Every connection is measured in the background this often (for /metrics); 0 turns it off. */
  refreshIntervalMs: number;
  /** A consumer's dedupe report counts for this long after it arrived. */
  consumerReportTtlMs: number;
  /** Who may report consumer dedupe counters with a bearer token. */
  reporters: ReporterToken[];
}

export interface TailSettings {
  /** A batch is sent at least this often while messages wait. */
  flushMs: number;
  /** Most messages in one SSE event. */
  maxBatch: number;
  /** Most messages buffered for one subscriber before the oldest are dropped and counted as skipped. */
  bufferCapacity: number;
  /** Most batches kept per subscription for a reconnect with lastEventId to replay. */
  ringBatches: number;
  /** Most messages kept in that ring. */
  ringMessages: number;
  /** How long a tail stays open after its client disconnected, waiting for a resume. */
  resumeGraceMs: number;
  /** Values longer than this are cut in tail events (the full value is in browse). */
  maxValueBytes: number;
}

export const DEFAULT_TAIL: TailSettings = {
  flushMs: 100,
  maxBatch: 300,
  bufferCapacity: 5_000,
  ringBatches: 200,
  ringMessages: 10_000,
  resumeGraceMs: 15_000,
  maxValueBytes: 64 * 1024,
};
