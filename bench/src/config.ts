import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCHMARKS = ['tail', 'scan', 'redrive', 'publish', 'listing', 'latency', 'web'] as const;
export type BenchmarkId = (typeof BENCHMARKS)[number];
export const BROKERS = ['kafka', 'rabbitmq', 'redis', 'sqs'] as const;
export type Broker = (typeof BROKERS)[number];

export interface Endpoints {
  kafkaBrokers: string[];
  rabbitmqUrl: string;
  rabbitmqManagementUrl: string;
  redisUrl: string;
  sqsEndpoint: string;
}

/** Everything a run is parameterised by; all of it comes from BENCH_* variables (see README). */
export interface BenchConfig {
  /** Multiplies the full sizes (1 = 1,000,000 scanned records, 100,000 dead letters...). */
  scale: number;
  only: BenchmarkId[];
  brokers: Broker[];
  /** Scan and publish run this many times, alternating raw and Mailroom; the best of each counts. */
  repeat: number;
  tailSeconds: number;
  latencySeconds: number;
  latencyRate: number;
  /** Writes CPU profiles of the server child (and the bench process) into results/profiles. */
  profile: boolean;
  brokersUp: boolean;
  endpoints: Endpoints;
  repoRoot: string;
  /** Checkout whose apps/server is measured (BENCH_SERVER_ROOT; default this one), e.g. a copy with a proposed patch applied. */
  serverRoot: string;
  benchDir: string;
  resultsDir: string;
}

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(BENCH_DIR, '..');

function list<T extends string>(raw: string | undefined, allowed: readonly T[], what: string): T[] {
  if (raw === undefined || raw.trim() === '') return [...allowed];
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`${what}: unknown ${JSON.stringify(item)}; known: ${allowed.join(', ')}`);
  }
  return items as T[];
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${JSON.stringify(raw)} must be a positive number`);
  return n;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(raw.trim().toLowerCase());
}

export const DEFAULT_SCALE = 0.1;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const scale = positive(env, 'BENCH_SCALE', DEFAULT_SCALE);
  if (scale > 1) throw new Error(`BENCH_SCALE=${scale}: 1 is the full run of the issue; larger is not supported`);
  return {
    scale,
    only: list(env.BENCH_ONLY, BENCHMARKS, 'BENCH_ONLY'),
    brokers: list(env.BENCH_BROKERS, BROKERS, 'BENCH_BROKERS'),
    repeat: Math.round(positive(env, 'BENCH_REPEAT', 3)),
    tailSeconds: positive(env, 'BENCH_TAIL_SECONDS', 8),
    latencySeconds: positive(env, 'BENCH_LATENCY_SECONDS', 10),
    latencyRate: positive(env, 'BENCH_LATENCY_RATE', 1000),
    profile: flag(env, 'BENCH_PROFILE', false),
    brokersUp: flag(env, 'BENCH_BROKERS_UP', true),
    endpoints: endpointsFromEnv(env),
    repoRoot: REPO_ROOT,
    serverRoot: path.resolve(env.BENCH_SERVER_ROOT || REPO_ROOT),
    benchDir: BENCH_DIR,
    resultsDir: path.resolve(env.BENCH_RESULTS_DIR ?? path.join(BENCH_DIR, 'results')),
  };
}

export function endpointsFromEnv(env: NodeJS.ProcessEnv = process.env): Endpoints {
  const rabbitmqUrl = env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';
  return {
    kafkaBrokers: (env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((s) => s.trim()).filter((s) => s !== ''),
    rabbitmqUrl,
    rabbitmqManagementUrl: (env.RABBITMQ_MANAGEMENT_URL || 'http://127.0.0.1:15672').replace(/\/+$/, ''),
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    sqsEndpoint: env.SQS_ENDPOINT || 'http://127.0.0.1:9324',
  };
}

/** A size of the issue scaled by BENCH_SCALE, never below `min`. */
export function scaled(config: Pick<BenchConfig, 'scale'>, full: number, min = 1): number {
  return Math.max(min, Math.round(full * config.scale));
}
