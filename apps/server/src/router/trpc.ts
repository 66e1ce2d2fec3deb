import { initTRPC, TRPCError } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/unstable-core-do-not-import';
import { isMailroomError, type MailroomErrorCode } from '@mailroom/core';
import { TRPC_CODE_FOR, toTRPCError } from '../errors';
import type { Principal } from '../auth/principal';
import { authorize, DEFAULT_READ, inputConnection, type AccessRule, type HttpFacts, type RawInput } from '../security/guard';
import type { Services } from '../services';

export interface Context {
  services: Services;
  /** Who calls; null when nobody signed in (only public procedures answer then). */
  principal: Principal | null;
  /** The HTTP request behind the call; null for in-process callers (createCaller). */
  http: HttpFacts | null;
}

export interface ProcedureMeta {
  access?: AccessRule;
}

export interface MailroomErrorData {
  code: string;
  httpStatus: number;
  path?: string;
  /** The core error code when the failure came from Mailroom (e.g. UNAVAILABLE, INVALID_INPUT). */
  mailroomCode: MailroomErrorCode | null;
  /** What the operator can do about it. */
  hint: string | null;
  /** Input validation problems, one per field. */
  issues: { path: string; message: string }[] | null;
}

const HTTP_STATUS: Record<string, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_SUPPORTED: 405,
  TIMEOUT: 408,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
};

function issuesOf(cause: unknown): { path: string; message: string }[] | null {
  if (typeof cause !== 'object' || cause === null || !('issues' in cause) || !Array.isArray(cause.issues)) return null;
  return (cause.issues as { path?: PropertyKey[]; message?: string }[]).map((issue) => ({
    path: (issue.path ?? []).map(String).join('.'),
    message: String(issue.message ?? 'invalid'),
  }));
}

function isProduction(ctx: Context | undefined): boolean {
  return ctx?.services.settings.production ?? process.env.NODE_ENV === 'production';
}

const t = initTRPC.context<Context>().meta<ProcedureMeta>().create({
  // isDev only adds stack traces to error shapes; no response carries one.
  isDev: false,
  sse: {
    ping: { enabled: true, intervalMs: 10_000 },
    client: { reconnectAfterInactivityMs: 25_000 },
  },
  errorFormatter({ shape, error, ctx, path }) {
    const cause = error.cause;
    let code = error.code as string;
    let message = shape.message;
    let mailroomCode: MailroomErrorCode | null = null;
    let hint: string | null = null;
    if (isMailroomError(cause)) {
      mailroomCode = cause.code;
      hint = cause.hint ?? null;
      // Errors thrown inside subscription iterators arrive here unmapped.
      if (code === 'INTERNAL_SERVER_ERROR') {
        code = TRPC_CODE_FOR[cause.code];
        message = toTRPCError(cause).message;
      }
    } else if (code === 'INTERNAL_SERVER_ERROR' && isProduction(ctx)) {
      message = 'Internal server error; the server log has the details.';
    }
    const issues = code === 'BAD_REQUEST' ? issuesOf(cause) : null;
    if (issues && issues.length > 0 && mailroomCode === null) {
      message = `Invalid input: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`;
    }
    // Never a stack trace, production or not: internal errors are logged with theirs (createExpressApp's onError).
    const data: MailroomErrorData = {
      code,
      httpStatus: HTTP_STATUS[code] ?? shape.data.httpStatus,
      ...(path !== undefined ? { path } : {}),
      mailroomCode,
      hint,
      issues,
    };
    const numeric = TRPC_ERROR_CODES_BY_KEY[code as keyof typeof TRPC_ERROR_CODES_BY_KEY] ?? shape.code;
    return { message, code: numeric, data };
  },
});

/** Maps core errors to tRPC codes and records request metrics for every procedure. */
const observed = t.middleware(async ({ ctx, path, type, next }) => {
  const started = performance.now();
  const result = await next();
  let code = 'OK';
  if (!result.ok) {
    const mapped = isMailroomError(result.error.cause) ? toTRPCError(result.error.cause) : result.error;
    code = mapped.code;
    ctx.services.metrics.observeRequest(path, type, code, (performance.now() - started) / 1000);
    if (mapped !== result.error) throw mapped;
    return result;
  }
  ctx.services.metrics.observeRequest(path, type, code, (performance.now() - started) / 1000);
  return result;
});

function rawRecord(raw: unknown): RawInput {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as RawInput) : {};
}

function errorText(error: TRPCError): string {
  const cause = error.cause;
  const code = isMailroomError(cause) ? TRPC_CODE_FOR[cause.code] : error.code;
  return `${code}: ${error.message}`;
}

/**
 * The one guard every call passes: origin and CSRF checks for HTTP calls, sign-in, the role the
 * procedure needs on its connection, read-only mode (global and per connection) for mutations,
 * the per-session subscription limit, and an audit entry for every mutation (refused ones too).
 */
const guarded = t.middleware(async ({ ctx, meta, type, path, getRawInput, next }) => {
  const rule = meta?.access ?? (type === 'mutation' ? null : DEFAULT_READ);
  if (rule === null) throw new TRPCError({ code: 'FORBIDDEN', message: `${path} has no access rule; refusing it` });
  const input = rawRecord(await getRawInput().catch(() => undefined));
  const { audit, settings } = ctx.services;
  const record = (result: 'ok' | 'refused' | 'failed', error: string | null, connectionId: string | null, data?: unknown) => {
    audit.record({
      user: ctx.principal?.user ?? '(not signed in)',
      via: ctx.principal?.via ?? 'anonymous',
      sessionId: ctx.principal?.sessionId ?? null,
      ip: ctx.http?.ip ?? null,
      action: rule.action ?? path,
      connectionId: connectionId ?? (typeof input.connectionId === 'string' ? input.connectionId.slice(0, 100) : null),
      destination: rule.destination?.(input, ctx) ?? null,
      detail: rule.detail?.(input) ?? null,
      count: result === 'ok' && data !== undefined ? (rule.count?.(data, input) ?? null) : null,
      result,
      error,
    });
  };
  let decision;
  try {
    decision = authorize(ctx, type, rule, input);
  } catch (error) {
    if (type === 'mutation' && rule.action !== undefined && ctx.principal !== null) record('refused', errorText(toTRPCError(error)), (rule.connection ?? inputConnection)(input, ctx));
    throw error;
  }

  if (type === 'subscription') {
    const key = ctx.principal?.sessionId ?? `anonymous:${ctx.http?.ip ?? 'in-process'}`;
    const limit = settings.security.limits.maxSubscriptionsPerSession;
    if (!ctx.services.subscriptions.tryOpen(key, limit)) {
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `At most ${limit} live views (subscriptions) per session; close some tabs or views` });
    }
    let result;
    try {
      result = await next();
    } catch (error) {
      ctx.services.subscriptions.close(key);
      throw error;
    }
    if (!result.ok) {
      ctx.services.subscriptions.close(key);
      return result;
    }
    return { ...result, data: ctx.services.subscriptions.track(key, result.data as AsyncIterable<unknown>) };
  }

  const result = await next();
  // Not signed in: only a sign-out can get here, and there is nobody to record.
  if (decision.audited && ctx.principal !== null) {
    if (result.ok) record('ok', null, decision.connectionId, result.data);
    else record(result.error.code === 'FORBIDDEN' ? 'refused' : 'failed', errorText(result.error), decision.connectionId);
  }
  return result;
});

export const router = t.router;
/** A procedure guarded by DEFAULT_READ (viewer on input.connectionId); mutations need `procedure(rule)`. */
export const publicProcedure = t.procedure.use(observed).use(guarded);
/** A procedure with an explicit access rule (role, audited action, connection, read-only exemptions). */
export const procedure = (access: AccessRule) => t.procedure.meta({ access }).use(observed).use(guarded);
export const createCallerFactory = t.createCallerFactory;
export { TRPCError };
