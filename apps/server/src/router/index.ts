import { auditRouter } from '../audit/audit-router';
import { sessionRouter } from '../auth/session-router';
import { connectionsRouter } from './connections';
import { deadLettersRouter } from './dead-letters';
import { destinationsRouter } from './destinations';
import { filtersRouter } from './filters';
import { fitnessRouter } from './fitness';
import { groupsRouter } from './groups';
import { messagesRouter } from './messages';
import { metricsRouter } from './metrics';
import { pendingRouter } from './pending';
import { redriveRouter } from './redrive';
import { serverRouter } from './server';
import { createCallerFactory, router } from './trpc';

export const appRouter = router({
  server: serverRouter,
  connections: connectionsRouter,
  destinations: destinationsRouter,
  messages: messagesRouter,
  deadLetters: deadLettersRouter,
  redrive: redriveRouter,
  groups: groupsRouter,
  pending: pendingRouter,
  metrics: metricsRouter,
  filters: filtersRouter,
  fitness: fitnessRouter,
  session: sessionRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);

export type { Context, MailroomErrorData } from './trpc';
export type { ConnectionInfo, ConnectionHealth, HealthStatus } from '../connections/connection';
export type { WireMessage, WireDeadLetter } from '../wire';
export type { TailStreamEvent } from '../streams/tail-hub';
export type { RedriveTask, RedriveStatus, RedriveSelectionInput } from '../redrive/types';
export type { WireMetricsSnapshot } from '../metrics/metrics-service';
export type { BrowseResult } from './messages';
export type { ServerInfo } from './server';
export type { SessionInfo } from '../auth/session-router';
export type { AuditEntry } from '../audit/audit-log';
export type { FitnessScores } from './fitness';
export type { FiringAlert } from '../fitness/alert-rules';
