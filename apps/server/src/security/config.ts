import { z } from 'zod';
import { isPasswordHash } from '../auth/passwords';

/** Keys are connection ids or globs with `*`. */
const connectionPattern = z.string().min(1).max(200).regex(/^[A-Za-z0-9_*-]+$/, 'a connection id or a glob with *');
const role = z.enum(['viewer', 'operator', 'admin']);
export const grantsSchema = z.record(connectionPattern, z.enum(['viewer', 'operator', 'admin', 'none']));

/** `role` is shorthand for `roles: { "*": role }`. */
const roleFields = { role: role.optional(), roles: grantsSchema.optional() };

export const localUserSchema = z
  .object({
    username: z.string().regex(/^[A-Za-z0-9._@-]{1,100}$/, 'letters, digits and . _ @ - (at most 100)'),
    passwordHash: z.string().refine(isPasswordHash, 'not a scrypt hash: generate one with `pnpm --filter @mailroom/server hash-password`'),
    ...roleFields,
  })
  .strict();

export const oidcSchema = z
  .object({
    issuer: z.url(),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1).optional(),
    /** Must be registered at the provider; Mailroom serves it at /auth/oidc/callback. */
    redirectUri: z.url(),
    scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email']),
    usernameClaim: z.string().min(1).default('preferred_username'),
    /** Claim holding group or role names (a string or a list of strings). */
    rolesClaim: z.string().min(1).default('groups'),
    /** Claim value → grants; a user gets the union (highest role per pattern) of every value it has. */
    roleMapping: z.record(z.string(), grantsSchema).default({}),
    /** Grants every signed-in OIDC user gets. A user left without any grant is refused. */
    defaultRoles: grantsSchema.default({}),
    label: z.string().min(1).max(60).default('Sign in with single sign-on'),
  })
  .strict();

export const authConfigSchema = z
  .object({
    users: z.array(localUserSchema).default([]),
    /** Access without signing in; only honoured when the server listens on loopback, and only for loopback clients. */
    anonymous: z.object(roleFields).strict().optional(),
    oidc: oidcSchema.optional(),
    session: z
      .object({
        ttlMinutes: z.number().int().min(1).max(60 * 24 * 30).default(720),
        idleMinutes: z.number().int().min(1).max(60 * 24 * 30).default(120),
        /** "auto": Secure when the request came over https (see http.trustProxy). */
        secureCookie: z.union([z.boolean(), z.literal('auto')]).default('auto'),
      })
      .strict()
      .default({ ttlMinutes: 720, idleMinutes: 120, secureCookie: 'auto' }),
    signInLimit: z
      .object({ maxFailures: z.number().int().min(1).max(1000).default(10), windowMinutes: z.number().int().min(1).max(1440).default(15) })
      .strict()
      .default({ maxFailures: 10, windowMinutes: 15 }),
  })
  .strict();

export const maskingRuleSchema = z
  .object({
    connection: connectionPattern.default('*'),
    /** Destination name or glob; a rule for `orders` also covers messages dead-lettered from `orders`. */
    destination: z.string().min(1).max(300).default('*'),
    /** Header names (case-insensitive, `*` globs) whose values are replaced. */
    headers: z.array(z.string().min(1).max(200)).max(100).default([]),
    /** JSON paths into the value: `$.card.number`, `$.items[*].iban`, `$..password`. */
    jsonPaths: z.array(z.string().min(2).max(300)).max(100).default([]),
    /** Regular expressions (RE2 syntax, linear time) replaced in the value text, the key and header values. */
    patterns: z.array(z.object({ pattern: z.string().min(1).max(500), caseInsensitive: z.boolean().default(false) }).strict()).max(50).default([]),
    key: z.boolean().default(false),
    replacement: z.string().max(100).default('***'),
  })
  .strict();

export const limitsSchema = z
  .object({
    maxMessageBytes: z.number().int().min(1).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
    /** Messages × copies per publish. */
    maxBatchMessages: z.number().int().min(1).max(100_000).default(10_000),
    maxPageSize: z.number().int().min(1).max(500).default(500),
    maxHeaders: z.number().int().min(0).max(1000).default(100),
    maxSubscriptionsPerSession: z.number().int().min(1).max(1000).default(32),
    maxRequestBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(16 * 1024 * 1024),
  })
  .strict();

export const auditConfigSchema = z
  .object({
    maxFileBytes: z.number().int().min(4096).default(5 * 1024 * 1024),
    /** Files kept: audit.log plus audit.log.1 ... (n-1). */
    maxFiles: z.number().int().min(1).max(100).default(5),
  })
  .strict();

export const httpConfigSchema = z
  .object({
    /** Express "trust proxy": set when a reverse proxy terminates TLS, so Secure cookies and Origin checks see https. */
    trustProxy: z.union([z.boolean(), z.number().int().min(0), z.string()]).optional(),
    /** Origins besides the server's own that may send mutations and open subscriptions. */
    allowedOrigins: z.array(z.url()).default([]),
  })
  .strict();

/** The config file keys of issue 12 (spread into configFileSchema). */
export const securityConfigFields = {
  /** Refuses every mutation on every connection. */
  readOnly: z.boolean().optional(),
  auth: authConfigSchema.optional(),
  masking: z.array(maskingRuleSchema).default([]),
  limits: limitsSchema.optional(),
  audit: auditConfigSchema.optional(),
  http: httpConfigSchema.optional(),
};

export type AuthConfig = z.input<typeof authConfigSchema>;
export type MaskingRuleConfig = z.infer<typeof maskingRuleSchema>;
export type Limits = z.infer<typeof limitsSchema>;
export type OidcConfig = z.infer<typeof oidcSchema>;

/** What createApp options may override (same shapes as the config file). */
export interface SecurityOverrides {
  readOnly?: boolean;
  auth?: z.input<typeof authConfigSchema> | null;
  masking?: z.input<typeof maskingRuleSchema>[];
  limits?: z.input<typeof limitsSchema>;
  audit?: z.input<typeof auditConfigSchema>;
  http?: z.input<typeof httpConfigSchema>;
}
