import { z } from 'zod';
import { securityConfigFields } from '../security/config';

export const CONNECTION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export const connectionConfigSchema = z
  .object({
    id: z.string().regex(CONNECTION_ID, 'use letters, digits, "-" and "_" (at most 63)'),
    name: z.string().min(1).max(100).optional(),
    kind: z.string().min(1),
    readOnly: z.boolean().default(false),
    /** Starts the adapter kind's demo traffic generator, where the kind has one. */
    demoTraffic: z.boolean().default(false),
    /** Passed to the adapter factory as is; may hold credentials, which never leave the server. */
    config: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type ConnectionConfig = z.infer<typeof connectionConfigSchema>;

export const alertRuleSchema = z
  .object({
    /** Connection id, or "*" for every connection. */
    connection: z.string().min(1),
    /** Destination name, or a glob with "*". */
    destination: z.string().min(1).max(300),
    maxLag: z.number().int().min(0).optional(),
    maxDepth: z.number().int().min(0).optional(),
    maxDeadLetterDepth: z.number().int().min(0).optional(),
    maxUnackedAgeMs: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((r) => r.maxLag !== undefined || r.maxDepth !== undefined || r.maxDeadLetterDepth !== undefined || r.maxUnackedAgeMs !== undefined, {
    message: 'an alert rule needs at least one limit: maxLag, maxDepth, maxDeadLetterDepth or maxUnackedAgeMs',
  });

export const configFileSchema = z
  .object({
    memory: z
      .object({
        enabled: z.boolean().default(true),
        demoTraffic: z.boolean().default(true),
        name: z.string().min(1).max(100).optional(),
      })
      .strict()
      .optional(),
    connections: z.array(connectionConfigSchema).default([]),
    health: z
      .object({ intervalMs: z.number().int().min(100).optional(), timeoutMs: z.number().int().min(50).optional(), maxBackoffMs: z.number().int().min(100).optional() })
      .strict()
      .optional(),
    /** Seconds the listDestinations result is reused per connection. */
    destinationsCacheTtlMs: z.number().int().min(0).optional(),
    metricsIntervalMs: z.number().int().min(250).optional(),
    /** Alert rules: what the monitoring fitness criterion checks coverage against, and what fires as alerts. */
    alerts: z.array(alertRuleSchema).default([]),
    fitness: z
      .object({
        ackDeadlineMs: z.number().int().min(100).optional(),
        sampleSize: z.number().int().min(1).max(500).optional(),
        cacheTtlMs: z.number().int().min(0).optional(),
        refreshIntervalMs: z.number().int().min(0).optional(),
        /** A consumer's dedupe report counts for this long after it arrived. */
        consumerReportTtlMs: z.number().int().min(1_000).optional(),
        /** Tokens idempotent consumers send (Authorization: Bearer) to POST /api/consumer-stats. */
        reporters: z
          .array(
            z
              .object({
                name: z.string().min(1).max(100),
                tokenSha256: z.string().regex(/^[0-9a-f]{64}$/i, 'the hex SHA-256 of the token (e.g. `printf %s "$TOKEN" | sha256sum`)'),
                connections: z.string().min(1).max(100).default('*'),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .optional(),
    /** readOnly, auth, masking, limits, audit, http: see src/security/config.ts. */
    ...securityConfigFields,
  })
  .strict();

export type ConfigFile = z.infer<typeof configFileSchema>;
