import { useQuery } from '@tanstack/react-query';
import { useTRPCClient } from '../api/trpc';
import { formatPercent } from '../lib/format';

/** The seed's five criteria and their thresholds (DESIGN.md, "Fitness scores"). */
export const FITNESS_CRITERIA = [
  { id: 'message_acknowledgment', label: 'Message acknowledgment', threshold: 1 },
  { id: 'dead_letter_handling', label: 'Dead-letter handling', threshold: 1 },
  { id: 'idempotent_consumers', label: 'Idempotent consumers', threshold: 1 },
  { id: 'error_retry', label: 'Error retry', threshold: 0.9 },
  { id: 'monitoring', label: 'Monitoring', threshold: 1 },
] as const;

export interface FitnessScore {
  criterion: string;
  /** 0..1, null when it could not be measured. */
  score: number | null;
  threshold: number;
  /** Why it is unknown, or a one-line explanation. */
  reason: string | null;
}

/** Reads whatever shape the fitness procedure returns into per-criterion scores, defensively. */
export function parseFitness(raw: unknown): FitnessScore[] {
  const list: unknown[] = Array.isArray(raw)
    ? raw
    : typeof raw === 'object' && raw !== null && Array.isArray((raw as { scores?: unknown }).scores)
      ? (raw as { scores: unknown[] }).scores
      : [];
  const out: FitnessScore[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const o = item as Record<string, unknown>;
    const criterion = typeof o.criterion === 'string' ? o.criterion : typeof o.id === 'string' ? o.id : null;
    if (criterion === null) continue;
    const rawScore = typeof o.score === 'number' ? o.score : typeof o.value === 'number' ? o.value : null;
    const score = rawScore === null ? null : rawScore > 1 ? rawScore / 100 : rawScore;
    const known = FITNESS_CRITERIA.find((c) => c.id === criterion);
    const threshold = typeof o.threshold === 'number' ? (o.threshold > 1 ? o.threshold / 100 : o.threshold) : (known?.threshold ?? 1);
    const reason = typeof o.reason === 'string' ? o.reason : typeof o.unknownReason === 'string' ? o.unknownReason : typeof o.summary === 'string' ? o.summary : null;
    out.push({ criterion, score, threshold, reason });
  }
  return out;
}

function isMissingProcedure(error: unknown): boolean {
  const e = error as { data?: { code?: string }; message?: string } | null;
  return e?.data?.code === 'NOT_FOUND' && /procedure/i.test(e.message ?? '');
}

/**
 * Fitness is computed by a procedure that arrives later (issue 10). Until it exists, every
 * criterion shows "unknown" with that reason: a score is never guessed.
 */
export function FitnessScores({ connectionId, enabled = true }: { connectionId: string; enabled?: boolean }) {
  const client = useTRPCClient();
  const query = useQuery({
    queryKey: ['fitness.scores', connectionId],
    enabled,
    retry: false,
    staleTime: 30_000,
    queryFn: async () => {
      const fitness = (client as unknown as { fitness?: { scores?: { query: (input: unknown) => Promise<unknown> } } }).fitness;
      if (fitness?.scores === undefined) throw new Error('fitness procedures are not available');
      return parseFitness(await fitness.scores.query({ connectionId }));
    },
  });
  const unavailable = query.isError && isMissingProcedure(query.error);
  const reason = !enabled
    ? 'Broker unreachable'
    : unavailable
      ? 'Fitness scoring is not available on this server yet'
      : query.isError
        ? 'Could not be measured: ' + ((query.error as Error).message ?? 'error')
        : null;
  return (
    <div>
    <div className="fitness" aria-label="Fitness scores" role="list">
      {FITNESS_CRITERIA.map((c) => {
        const s = query.data?.find((x) => x.criterion === c.id);
        const loading = enabled && query.isPending;
        const score = s?.score ?? null;
        const threshold = s?.threshold ?? c.threshold;
        const state = loading || score === null ? 'unknown' : score >= threshold ? 'pass' : 'fail';
        const why = s?.reason ?? reason ?? (score === null && !loading ? 'Not measured' : null);
        return (
          <div key={c.id} role="listitem" className={`score ${state}`} data-criterion={c.id} data-state={loading ? 'loading' : state} title={why ?? undefined}>
            <div className="score-name">{c.label}</div>
            <div className="score-value">{loading ? <span className="skeleton" style={{ display: 'block', width: 48, height: 20 }} /> : score === null ? 'unknown' : formatPercent(score)}</div>
            <div className="score-threshold">
              target ≥ {formatPercent(threshold)}
              {state === 'fail' && ' · below target'}
            </div>
          </div>
        );
      })}
    </div>
    {reason !== null && <div className="muted small" style={{ marginTop: 6 }}>Scores unknown: {reason}.</div>}
    </div>
  );
}
