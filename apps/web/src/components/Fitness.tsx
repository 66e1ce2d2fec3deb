import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { useTRPCClient } from '../api/trpc';
import { formatPercent, plural } from '../lib/format';
import { routes } from '../lib/routes';

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
  /** The server's verdict when it gives one (it also knows about unknown destinations). */
  status?: 'pass' | 'fail' | 'unknown';
}

/** What the overview needs from a connection's fitness report. */
export interface FitnessSummary {
  scores: FitnessScore[];
  /** Destinations failing a criterion, each with its fix. */
  failing: { criterion: string; destination: string; fix: string }[];
  alerts: number;
}

/**
 * The fitness.scores answer for one connection: `{ connections: [{ report: { criteria, failing } }], alerts }`.
 * Older or partial shapes (a bare list, `{ scores }`) are read too, defensively.
 */
export function parseFitnessSummary(raw: unknown): FitnessSummary {
  const o = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const connection = Array.isArray(o.connections) ? (o.connections[0] as Record<string, unknown> | undefined) : undefined;
  const report = typeof connection?.report === 'object' && connection.report !== null ? (connection.report as Record<string, unknown>) : null;
  if (report === null) return { scores: parseFitness(raw), failing: [], alerts: 0 };
  const failing = (Array.isArray(report.failing) ? (report.failing as unknown[]) : []).filter(
    (f): f is FitnessSummary['failing'][number] =>
      typeof f === 'object' && f !== null && typeof (f as Record<string, unknown>).destination === 'string' && typeof (f as Record<string, unknown>).fix === 'string',
  );
  return {
    scores: parseFitness(report.criteria),
    failing,
    alerts: Array.isArray(o.alerts) ? o.alerts.length : 0,
  };
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
    const status = o.status === 'pass' || o.status === 'fail' || o.status === 'unknown' ? o.status : undefined;
    out.push({ criterion, score, threshold, reason, ...(status === undefined ? {} : { status }) });
  }
  return out;
}

/** Failures listed on the overview card; the rest are on the fitness page. */
const TOP_FAILURES = 3;

function isMissingProcedure(error: unknown): boolean {
  const e = error as { data?: { code?: string }; message?: string } | null;
  return e?.data?.code === 'NOT_FOUND' && /procedure/i.test(e.message ?? '');
}

/**
 * The five criteria of one connection, refreshed every 15 s; each card opens its section of the
 * fitness page. A server without the procedure, or a score it could not measure, shows
 * "unknown" with the reason: a score is never guessed.
 */
export function FitnessScores({ connectionId, enabled = true }: { connectionId: string; enabled?: boolean }) {
  const client = useTRPCClient();
  const query = useQuery({
    queryKey: ['fitness.scores', connectionId],
    enabled,
    retry: false,
    staleTime: 10_000,
    refetchInterval: (q) => (q.state.status === 'error' ? false : 15_000),
    queryFn: async () => {
      const fitness = (client as unknown as { fitness?: { scores?: { query: (input: unknown) => Promise<unknown> } } }).fitness;
      if (fitness?.scores === undefined) throw new Error('fitness procedures are not available');
      return parseFitnessSummary(await fitness.scores.query({ connectionId }));
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
        const s = query.data?.scores.find((x) => x.criterion === c.id);
        const loading = enabled && query.isPending;
        const score = s?.score ?? null;
        const threshold = s?.threshold ?? c.threshold;
        const state = loading || score === null ? 'unknown' : (s?.status ?? (score >= threshold ? 'pass' : 'fail'));
        const why = s?.reason ?? reason ?? (score === null && !loading ? 'Not measured' : null);
        return (
          <div key={c.id} role="listitem" className={`score ${state}`} data-criterion={c.id} data-state={loading ? 'loading' : state} title={why ?? undefined}>
            <div className="score-name">
              <Link href={routes.fitness(connectionId, c.id)} style={{ color: 'inherit' }}>{c.label}</Link>
            </div>
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
    {query.data !== undefined && query.data.failing.length > 0 && (
      <ul className="small" aria-label="Fitness failures" style={{ margin: '6px 0 0', paddingLeft: 18 }}>
        {query.data.failing.slice(0, TOP_FAILURES).map((f) => (
          <li key={`${f.criterion}:${f.destination}`}>
            <Link href={routes.fitness(connectionId, f.criterion)} className="inline-link">{FITNESS_CRITERIA.find((c) => c.id === f.criterion)?.label ?? f.criterion}</Link>
            {': '}
            <span className="mono">{f.destination}</span> <span className="muted">— {f.fix}</span>
          </li>
        ))}
      </ul>
    )}
    {query.data !== undefined && (
      <div className="small" style={{ marginTop: 6, display: 'flex', gap: 12 }}>
        <Link href={routes.fitness(connectionId)}>
          {query.data.failing.length > TOP_FAILURES
            ? `All ${plural(query.data.failing.length, 'thing')} to fix, with evidence`
            : query.data.failing.length > 0
              ? `${plural(query.data.failing.length, 'thing')} to fix: evidence and fixes`
              : 'Evidence per destination'}
        </Link>
        {query.data.alerts > 0 && <span style={{ color: 'var(--danger)' }}>{plural(query.data.alerts, 'alert')} firing</span>}
      </div>
    )}
    </div>
  );
}
