import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { ConsumerStatsReport } from '@mailroom/core';
import { httpFacts } from '../auth/http-context';
import { roleOf } from '../auth/principal';
import { atLeast, matchesGlob } from '../auth/roles';
import { checkCsrf, checkOrigin } from '../security/guard';
import type { Services } from '../services';
import { TooManyConsumersError } from './consumer-reports';

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const reportSchema = z
  .object({
    connectionId: z.string().min(1).max(63),
    destination: z.string().min(1).max(300),
    group: z.string().min(1).max(300).nullable(),
    consumer: z.string().min(1).max(200),
    handled: count,
    duplicates: count,
    withoutIdentity: count,
    since: z.iso.datetime({ offset: true }),
  })
  .strict()
  .refine((r) => r.withoutIdentity <= r.handled, { message: 'withoutIdentity counts handled messages, so it cannot exceed handled', path: ['withoutIdentity'] });

const bodySchema = z.union([reportSchema, z.array(reportSchema).min(1).max(100)]);

export interface ReporterToken {
  name: string;
  /** Hex SHA-256 of the token the consumer sends as `Authorization: Bearer <token>`. */
  tokenSha256: string;
  /** Connection ids (or a glob) this token may report for. */
  connections: string;
}

type Refusal = { status: number; code: string; message: string };

function refuse(res: Response, { status, code, message }: Refusal): void {
  res.status(status).json({ error: { code, message } });
}

function bearerToken(req: Request): string | null {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1] ?? null;
}

function tokenMatches(token: string, reporters: ReporterToken[]): ReporterToken | null {
  const digest = createHash('sha256').update(token).digest();
  for (const reporter of reporters) {
    const expected = Buffer.from(reporter.tokenSha256, 'hex');
    if (expected.length === digest.length && timingSafeEqual(expected, digest)) return reporter;
  }
  return null;
}

/**
 * Who may report for these connections: a consumer with a reporter token from the config, or
 * a principal (session or anonymous loopback access) that is at least operator on each.
 */
function authorizeReport(req: Request, res: Response, services: Services, connectionIds: string[]): Refusal | null {
  const token = bearerToken(req);
  if (token !== null) {
    const reporter = tokenMatches(token, services.settings.fitness.reporters);
    if (!reporter) return { status: 401, code: 'UNAUTHORIZED', message: 'The bearer token is not one of fitness.reporters' };
    const outside = connectionIds.find((id) => !matchesGlob(reporter.connections, id));
    return outside === undefined ? null : { status: 403, code: 'FORBIDDEN', message: `Reporter ${reporter.name} may not report for connection ${outside}` };
  }
  const http = httpFacts(req, res);
  try {
    checkOrigin(http, services.settings.security.http.allowedOrigins);
    const principal = services.auth.principalFor(http.request);
    if (principal === null) return { status: 401, code: 'UNAUTHORIZED', message: 'Send Authorization: Bearer <token> with a token listed in fitness.reporters, or sign in' };
    checkCsrf(http, principal);
    const denied = connectionIds.find((id) => !atLeast(roleOf(principal, id), 'operator'));
    return denied === undefined ? null : { status: 403, code: 'FORBIDDEN', message: `${principal.user} is not operator on connection ${denied}` };
  } catch (error) {
    return { status: 403, code: 'FORBIDDEN', message: error instanceof Error ? error.message : String(error) };
  }
}

/** POST /api/consumer-stats: idempotent consumers report their dedupe counters (core's startStatsReporter). */
export function consumerStatsRoutes(services: Services): Router {
  const routes = Router();
  routes.post('/api/consumer-stats', express.json({ limit: '64kb' }), (req: Request, res: Response) => {
    res.setHeader('cache-control', 'no-store');
    const parsed = bodySchema.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return refuse(res, { status: 400, code: 'BAD_REQUEST', message: `Invalid consumer stats report: ${where}${issue?.message ?? 'malformed'}` });
    }
    const reports: ConsumerStatsReport[] = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
    const connectionIds = [...new Set(reports.map((r) => r.connectionId))];
    const unknown = connectionIds.find((id) => !services.connections.has(id));
    if (unknown !== undefined) return refuse(res, { status: 404, code: 'NOT_FOUND', message: `No connection ${unknown}` });
    const refusal = authorizeReport(req, res, services, connectionIds);
    if (refusal) return refuse(res, refusal);
    try {
      for (const report of reports) services.fitness.consumerReports.record(report);
    } catch (error) {
      if (error instanceof TooManyConsumersError) return refuse(res, { status: 429, code: 'TOO_MANY_REQUESTS', message: error.message });
      throw error;
    }
    return res.status(204).end();
  });
  // The JSON parser's refusals (malformed JSON, a body over the limit) as the same typed errors.
  routes.use('/api/consumer-stats', (error: unknown, _req: Request, res: Response, next: (e?: unknown) => void) => {
    const status = (error as { status?: unknown }).status;
    if (status === 413) return refuse(res, { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'A consumer stats report is at most 64 KiB' });
    if (status === 400) return refuse(res, { status: 400, code: 'BAD_REQUEST', message: 'Invalid consumer stats report: the body is not JSON' });
    return next(error);
  });
  return routes;
}
