import type { Server } from 'node:http';
import type { Express } from 'express';
import { AuditLog } from './audit/audit-log';
import { AuthService } from './auth/auth-service';
import { SYSTEM_PRINCIPAL, type Principal } from './auth/principal';
import { loadSettings, type SettingsOverrides } from './config/load';
import type { ServerSettings } from './config/settings';
import { ConnectionRegistry } from './connections/connection-registry';
import { DestinationCache } from './connections/destination-cache';
import { FitnessService } from './fitness/fitness-service';
import { createExpressApp } from './http/express-app';
import { Masker } from './masking/masker';
import { MetricsService } from './metrics/metrics-service';
import { RedriveManager } from './redrive/task-manager';
import { TaskStore } from './redrive/task-store';
import { createCaller } from './router';
import { isLoopbackBind } from './security/loopback';
import { SubscriptionLimiter } from './security/subscriptions';
import type { Services } from './services';
import { TailHub } from './streams/tail-hub';

export interface CreateAppOptions extends SettingsOverrides {
  /** Environment to read (default process.env). */
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
}

export interface MailroomApp {
  express: Express;
  /** Same as `express`. */
  app: Express;
  settings: ServerSettings;
  services: Services;
  /** A server-side caller of the router (tests, scripts): a trusted admin, still bound by read-only settings. */
  caller: ReturnType<typeof createCaller>;
  /** A server-side caller acting as `principal` (role checks and audit as for that user). */
  callerAs(principal: Principal): ReturnType<typeof createCaller>;
  /** Listens on settings.host:port (port 0: an ephemeral port); resolves with the URL. */
  listen(port?: number, host?: string): Promise<{ url: string; server: Server }>;
  /** Stops tails, collectors and monitors; redrive tasks stay "running" on disk and resume on the next start. */
  close(): Promise<void>;
}

/** Builds the whole server: connections, health monitor, metrics collector, redrive manager (resuming stored tasks), express app. */
export async function createApp(options: CreateAppOptions = {}): Promise<MailroomApp> {
  const { env = process.env, log = (m: string) => console.log(m), ...overrides } = options;
  const settings = await loadSettings(env, overrides);
  const metrics = new MetricsService(settings.metricsIntervalMs);
  const masker = new Masker(settings.security.masking);
  const audit = new AuditLog(settings.dataDir, settings.security.audit, metrics.registry, (m) => log(`[audit] ${m}`));
  const connections = await ConnectionRegistry.create(settings);
  const services: Services = {
    settings,
    connections,
    destinations: new DestinationCache(settings.destinationsCacheTtlMs),
    metrics,
    redrive: new RedriveManager(new TaskStore(settings.dataDir), connections, metrics, (m) => log(`[redrive] ${m}`), settings.security.readOnly, (id) => masker.forConnection(id)),
    tails: new TailHub(settings.tail, metrics),
    fitness: new FitnessService(settings.fitness, settings.alerts, metrics),
    auth: new AuthService(settings.security.auth, audit),
    audit,
    masker,
    subscriptions: new SubscriptionLimiter(),
  };
  let started = false;
  try {
    await services.redrive.init();
  } catch (error) {
    await connections.close();
    throw error;
  }
  metrics.start(connections);
  services.fitness.start(connections);
  started = true;

  const expressApp = createExpressApp({
    services,
    isStarted: () => started,
    onError: (path, error) => log(`[trpc] ${path ?? '?'}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
  });
  const servers = new Set<Server>();
  let closing: Promise<void> | null = null;

  return {
    express: expressApp,
    app: expressApp,
    settings,
    services,
    caller: createCaller({ services, principal: SYSTEM_PRINCIPAL, http: null }),
    callerAs: (principal) => createCaller({ services, principal, http: null }),
    listen(port = settings.port, host = settings.host) {
      return new Promise((resolve, reject) => {
        if (settings.security.auth.anonymous !== null && !isLoopbackBind(host)) {
          reject(new Error(`auth.anonymous is only allowed on loopback; refusing to listen on ${host}`));
          return;
        }
        const server = expressApp.listen(port, host, (error?: Error) => {
          if (error) return reject(error);
          const address = server.address();
          const actual = typeof address === 'object' && address ? address.port : port;
          const shownHost = host.includes(':') ? `[${host}]` : host;
          resolve({ url: `http://${shownHost}:${actual}`, server });
        });
        servers.add(server);
      });
    },
    close() {
      closing ??= (async () => {
        started = false;
        await services.redrive.close();
        await services.tails.close();
        metrics.stop();
        services.fitness.stop();
        for (const server of servers) {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
        await connections.close();
      })();
      return closing;
    },
  };
}
