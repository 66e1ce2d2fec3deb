import { z } from 'zod';
import { procedure, router } from '../router/trpc';
import type { AuditEntry } from './audit-log';
import { auditVisibility } from './visibility';

const isoDate = z.iso.datetime({ offset: true });

export const auditQuerySchema = z.object({
  connectionId: z.string().min(1).max(100).optional(),
  action: z.string().min(1).max(100).optional(),
  user: z.string().min(1).max(200).optional(),
  result: z.enum(['ok', 'refused', 'failed']).optional(),
  since: isoDate.optional(),
  until: isoDate.optional(),
  search: z.string().max(200).optional(),
});

export const auditRouter = router({
  /**
   * Audit entries the caller may read, newest first: a connection's entries for its operators and
   * admins, sign-ins for admins of every connection (and each user's own).
   * The same selection downloads from GET /api/audit/export?format=csv|json&<filters>.
   */
  list: procedure({ role: null })
    .input(auditQuerySchema.extend({ offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(500).default(100) }).strict())
    .query(({ ctx, input }): { items: AuditEntry[]; total: number } => {
      const { offset, limit, ...query } = input;
      const visible = auditVisibility(ctx.principal!, ctx.services.connections.all().map((c) => c.id));
      return ctx.services.audit.list(query, visible, { offset, limit });
    }),
});
