import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '@mailroom/core';
import { hashPassword } from '../auth/passwords';
import type { RoleGrants } from '../auth/roles';
import {
  auditConfigSchema,
  authConfigSchema,
  httpConfigSchema,
  limitsSchema,
  maskingRuleSchema,
  type Limits,
  type MaskingRuleConfig,
  type OidcConfig,
  type SecurityOverrides,
} from './config';
import { isLoopbackBind } from './loopback';
import type { z } from 'zod';

export interface LocalUser {
  username: string;
  passwordHash: string;
  grants: RoleGrants;
}

export interface AuthSettings {
  users: LocalUser[];
  /** Grants of anonymous loopback clients; null: everyone signs in. */
  anonymous: RoleGrants | null;
  oidc: OidcConfig | null;
  session: { ttlMs: number; idleMs: number; secureCookie: boolean | 'auto' };
  signInLimit: { maxFailures: number; windowMs: number };
  /** Where the auth settings came from, for the startup log. */
  mode: 'configured' | 'anonymous-env' | 'generated-admin';
  /** Set in mode generated-admin: the password of user "admin", printed once at startup. */
  generatedAdminPassword: string | null;
}

export interface SecuritySettings {
  /** Every mutation on every connection is refused. */
  readOnly: boolean;
  auth: AuthSettings;
  masking: MaskingRuleConfig[];
  limits: Limits;
  audit: z.infer<typeof auditConfigSchema>;
  http: z.infer<typeof httpConfigSchema>;
}

export interface SecurityFileSections {
  readOnly?: boolean | undefined;
  auth?: unknown;
  masking?: unknown[] | undefined;
  limits?: unknown;
  audit?: unknown;
  http?: unknown;
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');
    throw new InvalidInputError(`Config is invalid: ${issues}`);
  }
  return parsed.data;
}

function grantsOf(entry: { role?: 'viewer' | 'operator' | 'admin' | undefined; roles?: RoleGrants | undefined }, where: string): RoleGrants {
  if (entry.role !== undefined && entry.roles !== undefined) throw new InvalidInputError(`${where}: give either role or roles, not both`);
  if (entry.role !== undefined) return { '*': entry.role };
  if (entry.roles !== undefined) return entry.roles;
  throw new InvalidInputError(`${where}: needs role ("viewer", "operator" or "admin") or roles ({ "<connection or glob>": role })`);
}

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return !['0', 'false', 'off', 'no'].includes(value.trim().toLowerCase());
}

/**
 * Resolves the security settings. Defaults when the config has no `auth` section:
 * - no config file at all and a loopback listen address: anonymous operator access from this
 *   machine (the start command's demo stays one command);
 * - otherwise: a local "admin" user with a random password printed once at startup.
 */
export async function resolveSecuritySettings(options: {
  file: SecurityFileSections;
  overrides: SecurityOverrides | undefined;
  env: NodeJS.ProcessEnv;
  host: string;
}): Promise<SecuritySettings> {
  const { file, overrides = {}, env, host } = options;
  const authInput = overrides.auth !== undefined ? overrides.auth : file.auth;
  let auth: AuthSettings;
  if (authInput !== undefined && authInput !== null) {
    const parsed = parse(authConfigSchema, authInput, 'auth');
    const users = parsed.users.map((u, i) => ({ username: u.username, passwordHash: u.passwordHash, grants: grantsOf(u, `auth.users[${i}]`) }));
    const names = new Set<string>();
    for (const u of users) {
      if (names.has(u.username.toLowerCase())) throw new InvalidInputError(`auth.users: ${u.username} is declared twice`);
      names.add(u.username.toLowerCase());
    }
    const anonymous = parsed.anonymous ? grantsOf(parsed.anonymous, 'auth.anonymous') : null;
    if (anonymous && !isLoopbackBind(host)) {
      throw new InvalidInputError(`auth.anonymous is only allowed when the server listens on loopback (HOST=127.0.0.1 or ::1); it listens on ${host}`, {
        hint: 'Remove auth.anonymous and add auth.users or auth.oidc, or listen on 127.0.0.1.',
      });
    }
    auth = {
      users,
      anonymous,
      oidc: parsed.oidc ?? null,
      session: { ttlMs: parsed.session.ttlMinutes * 60_000, idleMs: parsed.session.idleMinutes * 60_000, secureCookie: parsed.session.secureCookie },
      signInLimit: { maxFailures: parsed.signInLimit.maxFailures, windowMs: parsed.signInLimit.windowMinutes * 60_000 },
      mode: 'configured',
      generatedAdminPassword: null,
    };
  } else {
    // Sign-in is on unless anonymous access is asked for explicitly (and then only on loopback).
    const base = { oidc: null, session: { ttlMs: 720 * 60_000, idleMs: 120 * 60_000, secureCookie: 'auto' as const }, signInLimit: { maxFailures: 10, windowMs: 15 * 60_000 } };
    const anonymousRole = anonymousRoleFromEnv(env.MAILROOM_ANONYMOUS_ROLE, host);
    if (anonymousRole !== null) {
      auth = { ...base, users: [], anonymous: { '*': anonymousRole }, mode: 'anonymous-env', generatedAdminPassword: null };
    } else {
      const password = randomBytes(15).toString('base64url');
      auth = { ...base, users: [{ username: 'admin', passwordHash: await hashPassword(password), grants: { '*': 'admin' } }], anonymous: null, mode: 'generated-admin', generatedAdminPassword: password };
    }
  }

  const maskingInput = overrides.masking ?? file.masking ?? [];
  return {
    readOnly: overrides.readOnly ?? flag(env.MAILROOM_GLOBAL_READ_ONLY) ?? file.readOnly ?? false,
    auth,
    masking: maskingInput.map((rule, i) => parse(maskingRuleSchema, rule, `masking[${i}]`)),
    limits: parse(limitsSchema, { ...(file.limits as object | undefined), ...overrides.limits }, 'limits'),
    audit: parse(auditConfigSchema, { ...(file.audit as object | undefined), ...overrides.audit }, 'audit'),
    http: parse(httpConfigSchema, { ...(file.http as object | undefined), ...overrides.http }, 'http'),
  };
}

/** MAILROOM_ANONYMOUS_ROLE: explicit anonymous access for loopback clients, refused on any other bind. */
function anonymousRoleFromEnv(value: string | undefined, host: string): 'viewer' | 'operator' | 'admin' | null {
  if (value === undefined || value === '') return null;
  if (value !== 'viewer' && value !== 'operator' && value !== 'admin') {
    throw new InvalidInputError(`MAILROOM_ANONYMOUS_ROLE must be viewer, operator or admin, got ${JSON.stringify(value)}`);
  }
  if (!isLoopbackBind(host)) {
    throw new InvalidInputError(`MAILROOM_ANONYMOUS_ROLE is only allowed when the server listens on loopback (HOST=127.0.0.1 or ::1); it listens on ${host}`, {
      hint: 'Unset MAILROOM_ANONYMOUS_ROLE and sign in, or listen on 127.0.0.1.',
    });
  }
  return value;
}

/** The startup log line that says how people get in. */
export function describeAccess(auth: AuthSettings, url: string): string[] {
  const lines: string[] = [];
  if (auth.mode === 'anonymous-env') {
    lines.push(`  sign-in:     off for this machine only: anonymous ${JSON.stringify(auth.anonymous)} access from loopback (MAILROOM_ANONYMOUS_ROLE).`);
    lines.push('               Unset it, or set MAILROOM_CONFIG with auth.users or auth.oidc, to require sign-in.');
  } else if (auth.mode === 'generated-admin') {
    lines.push(`  sign-in:     at ${url}/signin as user "admin", password ${auth.generatedAdminPassword}`);
    lines.push('               (generated for this run; configure auth.users in MAILROOM_CONFIG to keep accounts)');
  } else {
    const ways = [auth.users.length > 0 ? `${auth.users.length} local account(s)` : null, auth.oidc ? `OpenID Connect (${auth.oidc.issuer})` : null].filter(Boolean);
    lines.push(`  sign-in:     required at ${url}/signin${ways.length > 0 ? ` (${ways.join(', ')})` : ' (no accounts configured!)'}`);
    if (auth.anonymous) lines.push(`               anonymous access from loopback: ${JSON.stringify(auth.anonymous)}`);
  }
  return lines;
}
