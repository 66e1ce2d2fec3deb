import { timingSafeEqual } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import type { RequestFacts } from '../auth/auth-service';
import { roleOf, type Principal } from '../auth/principal';
import { atLeast, type Role } from '../auth/roles';
import type { Services } from '../services';

/** The raw (not yet validated) input of a call, or {} when it is not an object. */
export type RawInput = Record<string, unknown>;

/** What the guard knows about the HTTP request behind a call (null for in-process callers). */
export interface HttpFacts {
  request: RequestFacts;
  /** Origin header, when the browser sent one. */
  origin: string | null;
  secFetchSite: string | null;
  csrfHeader: string | null;
  /** scheme://host of this server as the request addressed it. */
  ownOrigin: string;
  ip: string | null;
  /** Adds a Set-Cookie header to the response. */
  setCookie(value: string): void;
}

export interface GuardContext {
  services: Services;
  principal: Principal | null;
  http: HttpFacts | null;
}

/**
 * How a procedure is guarded. Every procedure has one (procedures without one get
 * DEFAULT_READ for queries and subscriptions; a mutation without one is refused).
 */
export interface AccessRule {
  /** Least role needed on the call's connection; null: any signed-in principal, no connection scope. */
  role: Role | null;
  /** Callable without signing in (session.me, session.signIn). */
  public?: boolean;
  /** The audited action (set on every mutation, e.g. "messages.publish"). */
  action?: string;
  /** The connection the call acts on (default: input.connectionId). */
  connection?: (input: RawInput, ctx: GuardContext) => string | null;
  destination?: (input: RawInput, ctx: GuardContext) => string | null;
  /** Messages affected, from the result (for the audit entry). */
  count?: (result: unknown, input: RawInput) => number | null;
  detail?: (input: RawInput) => string | null;
  /** This input changes nothing (redrive dry run): read-only mode lets it through. */
  harmless?: (input: RawInput, ctx: GuardContext) => boolean;
  /** A query that has side effects for this input (a forced, destructive peek): needs the CSRF header like a mutation. */
  sideEffects?: (input: RawInput) => boolean;
}

export const CSRF_HEADER = 'x-mailroom-csrf';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const inputConnection = (input: RawInput): string | null => str(input.connectionId);
export const inputString = (name: string) => (input: RawInput): string | null => str(input[name]);

/** Queries and subscriptions without an explicit rule: viewer on input.connectionId, or signed in when there is none. */
export const DEFAULT_READ: AccessRule = { role: 'viewer' };

function forbidden(message: string, cause?: Error): TRPCError {
  return new TRPCError({ code: 'FORBIDDEN', message, ...(cause ? { cause } : {}) });
}

/**
 * Cross-site requests are refused for every procedure: a browser names the page's origin in
 * Origin (always on POST and on cross-origin EventSource) and says `cross-site` in
 * Sec-Fetch-Site. Same-origin EventSource GETs carry neither, which is why subscriptions also
 * rely on the SameSite=Strict session cookie.
 */
export function checkOrigin(http: HttpFacts, allowedOrigins: string[]): void {
  const allowed = (origin: string) => origin === http.ownOrigin || allowedOrigins.includes(origin);
  if (http.origin !== null && !allowed(http.origin)) throw forbidden(`Cross-origin request from ${http.origin} refused`);
  if ((http.secFetchSite === 'cross-site' || http.secFetchSite === 'same-site') && (http.origin === null || !allowed(http.origin))) {
    throw forbidden('Cross-site request refused');
  }
}

/**
 * Mutations need the x-mailroom-csrf header, which a cross-site form or image cannot send. With
 * a session it must equal the session's token (from session.me or the sign-in answer).
 */
export function checkCsrf(http: HttpFacts, principal: Principal | null): void {
  const sent = http.csrfHeader;
  if (sent === null || sent === '') throw forbidden(`CSRF check failed: the ${CSRF_HEADER} header is missing`);
  if (principal?.csrfToken) {
    const a = Buffer.from(sent);
    const b = Buffer.from(principal.csrfToken);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw forbidden(`CSRF check failed: ${CSRF_HEADER} does not match the session; reload the page`);
  }
}

export interface Decision {
  connectionId: string | null;
  /** The call is an audited mutation. */
  audited: boolean;
}

/** Authentication, role and read-only checks of one call; throws the refusal. */
export function authorize(ctx: GuardContext, type: 'query' | 'mutation' | 'subscription', rule: AccessRule, input: RawInput): Decision {
  const { services, principal } = ctx;
  if (ctx.http) {
    checkOrigin(ctx.http, services.settings.security.http.allowedOrigins);
    if (type === 'mutation' || rule.sideEffects?.(input)) checkCsrf(ctx.http, principal);
  }
  const audited = type === 'mutation' && rule.action !== undefined;
  if (rule.public) return { connectionId: null, audited };
  if (principal === null) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first.' });
  if (rule.role === null) return { connectionId: null, audited };

  const connectionId = (rule.connection ?? inputConnection)(input, ctx);
  if (connectionId === null) {
    if (type === 'mutation') throw new TRPCError({ code: 'BAD_REQUEST', message: 'Invalid input: connectionId: a connection id is required' });
    return { connectionId: null, audited };
  }
  const role = roleOf(principal, connectionId);
  if (!atLeast(role, rule.role)) {
    throw forbidden(
      role === null
        ? `${principal.user} has no access to connection ${connectionId}`
        : `${principal.user} is ${role} on connection ${connectionId}; this needs ${rule.role}`,
    );
  }
  if (type === 'mutation' && !rule.harmless?.(input, ctx)) {
    const { security } = services.settings;
    if (security.readOnly) throw forbidden('Mailroom is in read-only mode: every change is disabled (readOnly in the config or MAILROOM_GLOBAL_READ_ONLY)');
    const connection = services.connections.has(connectionId) ? services.connections.get(connectionId) : null;
    if (connection?.readOnly) throw forbidden(`Connection ${connection.label} is read-only: changes are disabled`);
  }
  return { connectionId, audited };
}

function taskOf(input: RawInput, ctx: GuardContext) {
  const id = input.taskId;
  if (typeof id !== 'string') return null;
  try {
    return ctx.services.redrive.get(id);
  } catch {
    return null;
  }
}

/** The connection of a redrive task named by input.taskId (null when there is no such task: the procedure answers NOT_FOUND). */
export function taskConnection(input: RawInput, ctx: GuardContext): string | null {
  return taskOf(input, ctx)?.connectionId ?? null;
}

/** The source (DLQ) of a redrive task named by input.taskId, for its audit entries. */
export function taskSource(input: RawInput, ctx: GuardContext): string | null {
  return taskOf(input, ctx)?.source ?? null;
}
