import { expect } from 'vitest';
import type { BrokerAdapter, CriterionId, CriterionScore, DestinationResult, RetryPolicy } from '@mailroom/core';
import { handleWithRetry, utf8, type MessageProducer, type ReceivedMessage } from '@mailroom/core';
import type { MailroomApp } from '../src/app';
import type { ConnectionConfig } from '../src/config/schema';
import type { AlertRule } from '../src/fitness/alert-rules';
import type { FitnessScores } from '../src/router';
import { testApp, waitFor } from './helpers';

/** Small settings so a test sees a message go overdue within a second and samples little. */
export const FAST_FITNESS = { ackDeadlineMs: 500, sampleSize: 5, cacheTtlMs: 0, refreshIntervalMs: 0 };

export function fitnessApp(connection: ConnectionConfig, dataDir: string, alerts: AlertRule[] = []): Promise<MailroomApp> {
  return testApp({ dataDir, connections: [connection], metricsIntervalMs: 300, fitness: FAST_FITNESS, alerts });
}

export function adapterOf(app: MailroomApp, connectionId: string): BrokerAdapter {
  const adapter = app.services.connections.get(connectionId).adapter;
  if (!adapter) throw new Error(`connection ${connectionId} has no adapter`);
  return adapter;
}

export interface Judged {
  scores: FitnessScores;
  criterion: CriterionScore;
  destination: DestinationResult;
}

export async function measure(app: MailroomApp, connectionId: string, scope: string, criterion: CriterionId, destination: string): Promise<Judged> {
  const scores = await app.caller.fitness.scores({ connectionId, destinations: scope, refresh: true });
  const connection = scores.connections[0];
  if (!connection || connection.status !== 'measured') throw new Error(`not measured: ${connection?.error ?? 'no connection'}`);
  const c = connection.report.criteria.find((x) => x.id === criterion) as CriterionScore;
  const d = c.destinations.find((x) => x.destination === destination);
  if (!d) throw new Error(`${destination} is not in the ${criterion} report (${c.destinations.map((x) => x.destination).join(', ')})`);
  return { scores, criterion: c, destination: d };
}

/** Measures until the destination has `status` (brokers' statistics settle over seconds). */
export async function until(
  app: MailroomApp,
  connectionId: string,
  scope: string,
  criterion: CriterionId,
  destination: string,
  status: DestinationResult['status'],
  timeoutMs = 20_000,
): Promise<Judged> {
  let last: Judged | null = null;
  try {
    return await waitFor(
      `${criterion} of ${destination} to be ${status}`,
      async () => {
        last = await measure(app, connectionId, scope, criterion, destination);
        return last.destination.status === status ? last : null;
      },
      timeoutMs,
      250,
    );
  } catch (error) {
    const seen = last as Judged | null;
    throw new Error(`${(error as Error).message}; last: ${seen ? `${seen.destination.status}: ${seen.destination.evidence}` : 'none'}`);
  }
}

/** A failing criterion names the destination, with evidence and a fix that names it too. */
export function expectFailure(j: Judged, destination: string, fixPattern: RegExp): void {
  expect(j.criterion.status).toBe('fail');
  expect(j.criterion.score).not.toBeNull();
  expect(j.criterion.score as number).toBeLessThan(j.criterion.threshold);
  expect(j.destination.status).toBe('fail');
  expect(j.destination.fix).toContain(destination);
  expect(j.destination.fix).toMatch(fixPattern);
  const connection = j.scores.connections[0]!;
  expect(connection.report.failing).toContainEqual({ criterion: j.criterion.id, destination, fix: j.destination.fix });
}

export function expectPass(j: Judged): void {
  expect(j.destination.status).toBe('pass');
  expect(j.destination.fix).toBeNull();
  expect(j.criterion.status).toBe('pass');
  expect(j.criterion.score as number).toBeGreaterThanOrEqual(j.criterion.threshold);
}

/**
 * Fails every message of `topic` through core's handleWithRetry with `policy`, as a worker
 * would, so the dead letters it writes carry the attempt history; returns how many it wrote.
 */
export async function deadLetterThroughRetry(
  producer: MessageProducer,
  topic: string,
  deadLetter: string,
  ids: string[],
  policy: RetryPolicy,
): Promise<number> {
  let written = 0;
  for (const id of ids) {
    const message: ReceivedMessage = { topic, id, partition: null, deliveryCount: 1, key: id, value: utf8(`work ${id}`), headers: { 'message-id': id }, timestamp: new Date() };
    const outcome = await handleWithRetry(message, async () => Promise.reject(new Error('downstream unavailable')), {
      policy,
      producer,
      deadLetterFor: () => deadLetter,
      wait: async () => undefined,
      random: () => 0.5,
    });
    if (outcome.status === 'dead-lettered') written++;
  }
  return written;
}

export const NO_RETRY: RetryPolicy = { maxAttempts: 1, initialDelayMs: 100, multiplier: 2, maxDelayMs: 10_000, jitter: 0 };
export const BACKOFF: RetryPolicy = { maxAttempts: 4, initialDelayMs: 100, multiplier: 2, maxDelayMs: 10_000, jitter: 0.1 };
