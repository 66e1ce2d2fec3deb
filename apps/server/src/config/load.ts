import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '@mailroom/core';
import { ADAPTER_FACTORIES, knownKinds } from '../connections/adapter-registry';
import type { SecurityOverrides } from '../security/config';
import { resolveSecuritySettings } from '../security/settings';
import { configFileSchema, type ConfigFile, type ConnectionConfig } from './schema';
import type { AlertRule } from '../fitness/alert-rules';
import { DEFAULT_TAIL, type FitnessSettings, type ServerSettings, type TailSettings } from './settings';

export const MEMORY_CONNECTION_ID = 'memory';

/** The demo covers some destinations with alert rules and leaves others out, so the monitoring score shows both. */
const DEMO_ALERT_RULES: AlertRule[] = [
  { connection: MEMORY_CONNECTION_ID, destination: 'orders', maxLag: 1_000 },
  { connection: MEMORY_CONNECTION_ID, destination: 'orders.dlq', maxDepth: 50 },
  { connection: MEMORY_CONNECTION_ID, destination: 'payments*', maxLag: 500, maxDeadLetterDepth: 10 },
];

export interface SettingsOverrides {
  /** Replaces the connections from the file and the environment (the memory one is still added unless disabled). */
  connections?: ConnectionConfig[];
  memory?: { enabled?: boolean; demoTraffic?: boolean };
  dataDir?: string;
  host?: string;
  port?: number;
  webDist?: string | null;
  production?: boolean;
  health?: Partial<ServerSettings['health']>;
  callTimeoutMs?: number;
  destinationsCacheTtlMs?: number;
  metricsIntervalMs?: number;
  tail?: Partial<TailSettings>;
  alerts?: AlertRule[];
  fitness?: Partial<FitnessSettings>;
  /** Replaces the config file's readOnly, auth, masking, limits, audit and http sections (auth: null = the defaults). */
  security?: SecurityOverrides;
  /** Config file contents to use instead of reading MAILROOM_CONFIG. */
  file?: unknown;
}

/** apps/server, found from this file whether it runs from src/ (tsx) or dist/ (bundle). */
function serverPackageDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

const DEFAULT_WEB_DIST = path.resolve(serverPackageDir(), '../web/dist');

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return !['0', 'false', 'off', 'no'].includes(value.trim().toLowerCase());
}

function intEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new InvalidInputError(`${name}=${JSON.stringify(raw)} is not a non-negative integer`);
  return n;
}

function readConfigFile(file: string): unknown {
  if (!existsSync(file)) throw new InvalidInputError(`MAILROOM_CONFIG points at ${file}, which does not exist`);
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`Config file ${file} is not valid JSON: ${(error as Error).message}`, {
      hint: 'The config file is JSON: { "connections": [{ "id": "prod", "kind": "kafka", "config": { ... } }] }',
    });
  }
}

function parseConfigFile(raw: unknown, source: string): ConfigFile {
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InvalidInputError(`Config ${source} is invalid: ${issues}`);
  }
  return parsed.data;
}

/**
 * One default connection per adapter kind whose trigger variable is set, e.g. KAFKA_BROKERS or
 * MAILROOM_KAFKA_BROKERS (the MAILROOM_ one wins when both are set).
 */
export async function connectionsFromEnv(env: NodeJS.ProcessEnv): Promise<ConnectionConfig[]> {
  const out: ConnectionConfig[] = [];
  for (const [kind, factory] of Object.entries(ADAPTER_FACTORIES)) {
    if (factory.envTriggers.length === 0) continue;
    const merged: NodeJS.ProcessEnv = { ...env };
    let triggered = false;
    for (const [name, value] of Object.entries(env)) {
      if (name.startsWith('MAILROOM_') && value !== undefined && value !== '') merged[name.slice('MAILROOM_'.length)] = value;
    }
    for (const name of factory.envTriggers) {
      const value = merged[name];
      if (value !== undefined && value !== '') triggered = true;
    }
    if (!triggered) continue;
    // An adapter package that fails to load leaves an empty config: the connection then shows
    // as down with the load error instead of stopping the whole server.
    const config = await factory.load().then((m) => m.fromEnv(merged), () => ({}));
    out.push({ id: kind, name: `${kind} (from environment)`, kind, readOnly: flag(env.MAILROOM_READ_ONLY) ?? false, demoTraffic: false, config });
  }
  return out;
}

export async function loadSettings(env: NodeJS.ProcessEnv = process.env, overrides: SettingsOverrides = {}): Promise<ServerSettings> {
  const configPath = overrides.file !== undefined ? null : env.MAILROOM_CONFIG ? path.resolve(env.MAILROOM_CONFIG) : null;
  const file = parseConfigFile(overrides.file ?? (configPath ? readConfigFile(configPath) : {}), configPath ?? 'options');

  const memoryEnabled = overrides.memory?.enabled ?? flag(env.MAILROOM_MEMORY) ?? file.memory?.enabled ?? true;
  const demoTraffic = overrides.memory?.demoTraffic ?? flag(env.MAILROOM_DEMO_TRAFFIC) ?? file.memory?.demoTraffic ?? true;

  const connections: ConnectionConfig[] = [];
  if (memoryEnabled && ADAPTER_FACTORIES[MEMORY_CONNECTION_ID]) {
    connections.push({
      id: MEMORY_CONNECTION_ID,
      name: file.memory?.name ?? 'Embedded (in-process)',
      kind: MEMORY_CONNECTION_ID,
      readOnly: false,
      demoTraffic,
      config: {},
    });
  }
  const declared = overrides.connections ?? file.connections;
  for (const connection of declared) {
    if (connections.some((c) => c.id === connection.id)) {
      throw new InvalidInputError(`Connection id ${JSON.stringify(connection.id)} is declared twice`);
    }
    if (!ADAPTER_FACTORIES[connection.kind]) {
      throw new InvalidInputError(`Connection ${connection.id} has kind ${JSON.stringify(connection.kind)}; known kinds: ${knownKinds().join(', ') || '(none)'}`);
    }
    connections.push(connection);
  }
  // Environment defaults fill in kinds the file did not already name by the same id.
  for (const connection of overrides.connections ? [] : await connectionsFromEnv(env)) {
    if (!connections.some((c) => c.id === connection.id)) connections.push(connection);
  }

  const host = overrides.host ?? env.HOST ?? '127.0.0.1';
  const security = await resolveSecuritySettings({ file, overrides: overrides.security, env, host });
  const production = overrides.production ?? env.NODE_ENV === 'production';
  const webDist = overrides.webDist !== undefined ? overrides.webDist : (env.MAILROOM_WEB_DIST ?? DEFAULT_WEB_DIST);
  return {
    connections,
    dataDir: path.resolve(overrides.dataDir ?? env.MAILROOM_DATA_DIR ?? './.mailroom-data'),
    host,
    port: overrides.port ?? intEnv(env, 'PORT') ?? 8080,
    webDist,
    production,
    configPath,
    health: {
      intervalMs: overrides.health?.intervalMs ?? file.health?.intervalMs ?? 2_000,
      timeoutMs: overrides.health?.timeoutMs ?? file.health?.timeoutMs ?? 2_000,
      maxBackoffMs: overrides.health?.maxBackoffMs ?? file.health?.maxBackoffMs ?? 8_000,
    },
    callTimeoutMs: overrides.callTimeoutMs ?? intEnv(env, 'MAILROOM_CALL_TIMEOUT_MS') ?? 10_000,
    destinationsCacheTtlMs: overrides.destinationsCacheTtlMs ?? file.destinationsCacheTtlMs ?? 3_000,
    metricsIntervalMs: overrides.metricsIntervalMs ?? file.metricsIntervalMs ?? 5_000,
    tail: { ...DEFAULT_TAIL, ...overrides.tail },
    alerts: overrides.alerts ?? (file.alerts.length > 0 ? file.alerts : connections.some((c) => c.id === MEMORY_CONNECTION_ID && c.demoTraffic) ? DEMO_ALERT_RULES : []),
    fitness: {
      ackDeadlineMs: overrides.fitness?.ackDeadlineMs ?? file.fitness?.ackDeadlineMs ?? 30_000,
      sampleSize: overrides.fitness?.sampleSize ?? file.fitness?.sampleSize ?? 100,
      cacheTtlMs: overrides.fitness?.cacheTtlMs ?? file.fitness?.cacheTtlMs ?? 10_000,
      refreshIntervalMs: overrides.fitness?.refreshIntervalMs ?? file.fitness?.refreshIntervalMs ?? 60_000,
      consumerReportTtlMs: overrides.fitness?.consumerReportTtlMs ?? file.fitness?.consumerReportTtlMs ?? 300_000,
      reporters: overrides.fitness?.reporters ?? file.fitness?.reporters ?? [],
    },
    security,
  };
}
