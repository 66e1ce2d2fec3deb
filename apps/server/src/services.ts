import type { AuditLog } from './audit/audit-log';
import type { AuthService } from './auth/auth-service';
import type { ServerSettings } from './config/settings';
import type { ConnectionRegistry } from './connections/connection-registry';
import type { DestinationCache } from './connections/destination-cache';
import type { FitnessService } from './fitness/fitness-service';
import type { MetricsService } from './metrics/metrics-service';
import type { Masker } from './masking/masker';
import type { RedriveManager } from './redrive/task-manager';
import type { SubscriptionLimiter } from './security/subscriptions';
import type { TailHub } from './streams/tail-hub';

/** Everything the procedures use; one set per app instance. */
export interface Services {
  settings: ServerSettings;
  connections: ConnectionRegistry;
  destinations: DestinationCache;
  metrics: MetricsService;
  redrive: RedriveManager;
  tails: TailHub;
  fitness: FitnessService;
  auth: AuthService;
  audit: AuditLog;
  masker: Masker;
  subscriptions: SubscriptionLimiter;
}
