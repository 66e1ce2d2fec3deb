import { initTRPC, TRPCError } from '@trpc/server';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/unstable-core-do-not-import';
import { isMailroomError, type MailroomErrorCode } from '@mailroom/core';
import { TRPC_CODE_FOR, toTRPCError } from '../errors';
import type { Services } from '../services';

export interface Context {
  services: Services;
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
  /** Only outside production. */
  stack?: string;
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

const t = initTRPC.context<Context>().create({
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
    const data: MailroomErrorData = {
      code,
      httpStatus: HTTP_STATUS[code] ?? shape.data.httpStatus,
      ...(path !== undefined ? { path } : {}),
      mailroomCode,
      hint,
      issues,
      ...(!isProduction(ctx) && shape.data.stack ? { stack: shape.data.stack } : {}),
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

export const router = t.router;
export const publicProcedure = t.procedure.use(observed);
export const createCallerFactory = t.createCallerFactory;
export { TRPCError };
