import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useParams, useSearch } from 'wouter';
import { useConnections } from '../api/hooks';
import { useTRPC, useTRPCClient } from '../api/trpc';
import type { RouterOutputs } from '../api/types';
import { Icon } from '../components/Icon';
import { PageHeader } from '../components/PageHeader';
import { Alert, EmptyState, ErrorState, LoadingRows } from '../components/States';
import { formatAgo, formatCount, formatDuration, formatPercent, plural } from '../lib/format';
import { decodeParam, routes } from '../lib/routes';
import './fitness.css';

export type FitnessScoresWire = RouterOutputs['fitness']['scores'];
type ConnectionFitness = FitnessScoresWire['connections'][number];
type Report = ConnectionFitness['report'];
type Criterion = Report['criteria'][number];
type DestinationResult = Criterion['destinations'][number];
type FiringAlert = FitnessScoresWire['alerts'][number];

/** How often the page asks the server for fresh scores (the server reuses reports younger than its cache TTL). */
export const LIVE_INTERVAL_MS = 10_000;

const STATUS_LABEL: Record<DestinationResult['status'], string> = { pass: 'Pass', fail: 'Fail', unknown: 'Unknown', 'not-applicable': 'n/a' };
const STATUS_TONE: Record<DestinationResult['status'], string> = { pass: 'ok', fail: 'danger', unknown: 'warn', 'not-applicable': '' };
/** Within a criterion: what needs action first, then what could not be judged. */
const STATUS_ORDER: Record<DestinationResult['status'], number> = { fail: 0, unknown: 1, pass: 2, 'not-applicable': 3 };

/** A live subscription event arrives as the payload itself, or wrapped as `{ id, data }` when tracked. */
function unwrap(event: unknown): FitnessScoresWire | null {
  if (typeof event !== 'object' || event === null) return null;
  const inner = (event as { data?: unknown }).data;
  const value = typeof inner === 'object' && inner !== null && 'connections' in inner ? inner : event;
  return 'connections' in (value as object) ? (value as FitnessScoresWire) : null;
}

export default function FitnessPage() {
  const params = useParams<{ conn?: string }>();
  const connectionId = params.conn === undefined ? undefined : decodeParam(params.conn);
  const search = new URLSearchParams(useSearch());
  const scope = search.get('destinations') ?? '';
  const [, navigate] = useLocation();
  const connections = useConnections();
  const connection = connectionId === undefined ? undefined : connections.data?.find((c) => c.id === connectionId);
  const unknownConnection = connectionId !== undefined && connections.isSuccess && connection === undefined;

  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const input = { ...(connectionId === undefined ? {} : { connectionId }), ...(scope === '' ? {} : { destinations: scope }) };
  const queryKey = trpc.fitness.scores.queryKey(input);
  const scores = useQuery(trpc.fitness.scores.queryOptions(input, { enabled: !unknownConnection, refetchInterval: LIVE_INTERVAL_MS * 3 }));
  const live = useSubscription(
    trpc.fitness.live.subscriptionOptions(
      { ...input, intervalMs: LIVE_INTERVAL_MS },
      {
        enabled: scores.isSuccess,
        onData: (event) => {
          const next = unwrap(event);
          if (next !== null) queryClient.setQueryData(queryKey, next);
        },
      },
    ),
  );
  const remeasure = useMutation({
    mutationFn: () => client.fitness.scores.query({ ...input, refresh: true }),
    onSuccess: (data) => queryClient.setQueryData(queryKey, data),
  });

  // Links from the overview cards point at a criterion: scroll to it once it is on the page.
  useEffect(() => {
    const id = window.location.hash.slice(1);
    if (id !== '' && scores.isSuccess) document.getElementById(id)?.scrollIntoView?.({ block: 'start' });
  }, [scores.isSuccess]);

  const data = scores.data;
  const setScope = (value: string) => {
    const next = new URLSearchParams(search);
    if (value === '') next.delete('destinations');
    else next.set('destinations', value);
    const qs = next.toString();
    navigate(`${routes.fitness(connectionId)}${qs === '' ? '' : `?${qs}`}`, { replace: true });
  };

  return (
    <div className="page fitness-page">
      <PageHeader
        crumbs={[{ label: 'Overview', href: '/' }, ...(connectionId === undefined ? [] : [{ label: connection?.name ?? connectionId, href: routes.destinations(connectionId) }])]}
        title="Fitness"
        subtitle={
          data === undefined ? (
            "How the messaging setup scores on the pattern card's five criteria, with the evidence and the fix for everything that fails."
          ) : (
            <>
              Measured {formatAgo(data.at)} · ack deadline {formatDuration(data.settings.ackDeadlineMs)} · up to {formatCount(data.settings.sampleSize)} messages sampled per destination ·{' '}
              <span className={`live-dot ${live.status === 'pending' ? 'on' : ''}`} aria-hidden="true" />
              {live.status === 'pending' ? `live, every ${LIVE_INTERVAL_MS / 1000} s` : live.status === 'error' ? 'live updates interrupted, retrying' : 'connecting live updates'}
            </>
          )
        }
        actions={
          <>
            <ScopeForm scope={scope} onScope={setScope} />
            <button type="button" className="btn" onClick={() => remeasure.mutate()} disabled={remeasure.isPending || !scores.isSuccess}>
              <Icon name="refresh" size={14} /> {remeasure.isPending ? 'Measuring…' : 'Re-measure now'}
            </button>
          </>
        }
      />
      {unknownConnection && <Alert tone="danger" title="Unknown connection">No connection named <code>{connectionId}</code> is configured.</Alert>}
      {remeasure.isError && <ErrorState error={remeasure.error} compact />}
      {scores.isPending && !unknownConnection && <div className="card"><LoadingRows rows={5} label="Measuring fitness" /></div>}
      {scores.isError && <div className="card"><ErrorState error={scores.error} onRetry={() => void scores.refetch()} /></div>}
      {data !== undefined && data.connections.length === 0 && (
        <div className="card"><EmptyState title="No connections configured">Fitness is measured per broker connection: add one to the server's configuration.</EmptyState></div>
      )}
      {data !== undefined && (
        <div className="stack">
          {connectionId === undefined && data.connections.filter((c) => c.status === 'measured').length > 1 && (
            <section className="card" aria-label="All connections">
              <div className="card-header"><h2>All connections</h2><span className="muted small">destinations of every connection together</span></div>
              <div className="card-body"><ScoreTiles report={data.overall} connectionId={undefined} /></div>
            </section>
          )}
          {/* A broker that could not be measured is what the operator came for: it goes first. */}
          {[...data.connections].sort((a, b) => Number(a.status === 'measured') - Number(b.status === 'measured')).map((c) => (
            <ConnectionSection key={c.connectionId} fitness={c} alerts={data.alerts.filter((a) => a.connection === c.connectionId)} single={connectionId !== undefined} scope={scope} />
          ))}
        </div>
      )}
    </div>
  );
}

function ScopeForm({ scope, onScope }: { scope: string; onScope: (value: string) => void }) {
  const [value, setValue] = useState(scope);
  useEffect(() => setValue(scope), [scope]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onScope(value.trim());
  };
  return (
    <form className="row" onSubmit={submit} role="search" aria-label="Limit to destinations">
      <input
        className="input mono"
        style={{ width: 220 }}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        placeholder="all destinations, or orders*"
        aria-label="Destinations (glob)"
        title="Limit the scores to destinations matching this pattern; * matches anything"
      />
      <button type="submit" className="btn">Apply</button>
    </form>
  );
}

function ConnectionSection({ fitness: c, alerts, single, scope }: { fitness: ConnectionFitness; alerts: FiringAlert[]; single: boolean; scope: string }) {
  return (
    <section className="stack" aria-label={`Fitness of ${c.connectionName}`} data-connection={c.connectionId}>
      {!single && (
        <div className="row">
          <h2 className="grow">
            <Link href={routes.fitness(c.connectionId)}>{c.connectionName}</Link>
          </h2>
          <span className="muted small">measured {formatAgo(c.at)}</span>
        </div>
      )}
      {c.status === 'unavailable' && (
        <Alert tone="danger" title="Could not be measured">
          {c.error ?? 'The broker did not answer.'}
          <div className="muted small">Every criterion stays unknown until the broker answers again: nothing is counted as passing.</div>
        </Alert>
      )}
      <div className="card">
        <div className="card-body stack">
          <ScoreTiles report={c.report} connectionId={c.connectionId} samePage={single} />
          {scope !== '' && <div className="muted small">Limited to destinations matching <code>{scope}</code>.</div>}
        </div>
      </div>
      {alerts.length > 0 && <AlertsCard connectionId={c.connectionId} alerts={alerts} />}
      {c.status === 'measured' && <ToFix connectionId={c.connectionId} report={c.report} samePage={single} />}
      {c.status === 'measured' && single && c.report.criteria.map((criterion) => <CriterionSection key={criterion.id} connectionId={c.connectionId} criterion={criterion} />)}
      {c.status === 'measured' && !single && (
        <div className="small">
          <Link href={routes.fitness(c.connectionId)}>Evidence per destination for every criterion of {c.connectionName} →</Link>
        </div>
      )}
    </section>
  );
}

/** The five criteria at a glance: score against threshold, or "unknown" with the reason on hover. */
export function ScoreTiles({ report, connectionId, samePage = false }: { report: Report; connectionId: string | undefined; samePage?: boolean }) {
  return (
    <div className="fitness" role="list" aria-label="Fitness scores">
      {report.criteria.map((c) => {
        const tile = (
          <>
            <div className="score-name">{c.title}</div>
            <div className="score-value">{c.score === null ? 'unknown' : formatPercent(c.score)}</div>
            <ThresholdBar score={c.score} threshold={c.threshold} />
            <div className="score-threshold">
              target ≥ {formatPercent(c.threshold)} · <strong>{c.status === 'pass' ? 'passes' : c.status === 'fail' ? 'fails' : 'not measured'}</strong>
            </div>
          </>
        );
        return (
          <div key={c.id} role="listitem" className={`score ${c.status}`} data-criterion={c.id} data-state={c.status} title={c.summary}>
            {connectionId === undefined ? (
              <div className="score-inner">{tile}</div>
            ) : samePage ? (
              <a href={`#${c.id}`} className="score-inner score-link">{tile}</a>
            ) : (
              <Link href={routes.fitness(connectionId, c.id)} className="score-inner score-link">{tile}</Link>
            )}
          </div>
        );
      })}
    </div>
  );
}

function ThresholdBar({ score, threshold }: { score: number | null; threshold: number }) {
  return (
    <div className="threshold-bar" aria-hidden="true">
      {score !== null && <div className="fill" style={{ width: `${Math.round(score * 100)}%` }} />}
      <div className="mark" style={{ left: `${Math.round(threshold * 100)}%` }} />
    </div>
  );
}

function DestinationLink({ connectionId, name }: { connectionId: string; name: string }) {
  return <Link href={routes.destination(connectionId, name)} className="mono">{name}</Link>;
}

/** The operator's to-do list: every failing destination with what to change. */
function ToFix({ connectionId, report, samePage }: { connectionId: string; report: Report; samePage: boolean }) {
  const titles = new Map(report.criteria.map((c) => [c.id, c.title]));
  const unknown = report.criteria.filter((c) => c.status === 'unknown');
  return (
    <section className="card" aria-label="To fix">
      <div className="card-header">
        <h2>To fix</h2>
        <span className={`badge ${report.failing.length > 0 ? 'danger' : 'ok'}`}>{report.failing.length === 0 ? 'nothing failing' : plural(report.failing.length, 'item')}</span>
        {unknown.length > 0 && <span className="badge warn">{plural(unknown.length, 'criterion', 'criteria')} not measured</span>}
      </div>
      {report.failing.length === 0 ? (
        <div className="card-body muted">Every destination that could be measured meets its criteria{unknown.length > 0 ? '; see below what could not be measured and why' : ''}.</div>
      ) : (
        <div className="table-wrap">
          <table className="table fix-table">
            <thead>
              <tr><th style={{ width: 170 }}>Criterion</th><th style={{ width: '26%' }}>Destination</th><th>Fix</th></tr>
            </thead>
            <tbody>
              {report.failing.map((f) => (
                <tr key={`${f.criterion}:${f.destination}`}>
                  <td>{samePage ? <a href={`#${f.criterion}`}>{titles.get(f.criterion) ?? f.criterion}</a> : <Link href={routes.fitness(connectionId, f.criterion)}>{titles.get(f.criterion) ?? f.criterion}</Link>}</td>
                  <td className="truncate"><DestinationLink connectionId={connectionId} name={f.destination} /></td>
                  <td className="fix">{f.fix}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function AlertsCard({ connectionId, alerts }: { connectionId: string; alerts: FiringAlert[] }) {
  return (
    <section className="card" aria-label="Alerts firing">
      <div className="card-header">
        <Icon name="warn" />
        <h2>Alerts firing</h2>
        <span className="badge danger">{alerts.length}</span>
        <span className="muted small">alert rules from the config file whose limit is exceeded now</span>
      </div>
      <div className="table-wrap">
        <table className="table">
          <thead><tr><th>Destination</th><th>Rule</th><th className="num">Now</th><th className="num">Limit</th></tr></thead>
          <tbody>
            {alerts.map((a) => (
              <tr key={`${a.destination}:${a.rule}`}>
                <td className="truncate"><DestinationLink connectionId={connectionId} name={a.destination} /></td>
                <td>{a.rule}</td>
                <td className="num" style={{ color: 'var(--danger)' }}>{a.rule === 'max unacked age' ? formatDuration(a.value) : formatCount(a.value)}</td>
                <td className="num">{a.rule === 'max unacked age' ? formatDuration(a.limit) : formatCount(a.limit)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** What a criterion judges, in the card's words (fitness.criteria), shown above its evidence. */
function useCriterionDescription(id: string): string | null {
  const trpc = useTRPC();
  const criteria = useQuery(trpc.fitness.criteria.queryOptions(undefined, { staleTime: Infinity }));
  return criteria.data?.find((c) => c.id === id)?.description ?? null;
}

function CriterionSection({ connectionId, criterion: c }: { connectionId: string; criterion: Criterion }) {
  const [showAll, setShowAll] = useState(false);
  const description = useCriterionDescription(c.id);
  const sorted = [...c.destinations].sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.destination.localeCompare(b.destination));
  // What needs attention is always shown; passing and not-applicable destinations on request.
  const attention = sorted.filter((d) => d.status === 'fail' || d.status === 'unknown');
  const passing = sorted.filter((d) => d.status === 'pass').length;
  const notApplicable = sorted.length - attention.length - passing;
  const hidden = sorted.length - attention.length;
  const rows = showAll ? sorted : attention;
  return (
    <section className="card criterion" aria-label={c.title} id={c.id} data-criterion={c.id} data-state={c.status}>
      <div className="card-header">
        <h2>{c.title}</h2>
        <span className={`badge ${STATUS_TONE[c.status]}`}>{STATUS_LABEL[c.status]}</span>
        <span className="muted small mono">{c.score === null ? 'unknown' : formatPercent(c.score)} / ≥ {formatPercent(c.threshold)}</span>
        <span className="spacer" />
        {hidden > 0 && (
          <button type="button" className="btn sm ghost" onClick={() => setShowAll((v) => !v)} aria-pressed={showAll}>
            {showAll ? 'Hide' : 'Show'} {[passing > 0 ? `${passing} passing` : null, notApplicable > 0 ? `${notApplicable} not applicable` : null].filter(Boolean).join(', ')}
          </button>
        )}
      </div>
      <div className="card-body stack">
        {description !== null && <div className="small criterion-description">{description}</div>}
        {c.status === 'unknown' ? (
          <Alert tone="warn" title="Not measured">{c.summary.replace(/^could not be measured: /, '')}</Alert>
        ) : (
          <div className="muted">{c.summary}</div>
        )}
        {rows.length > 0 && (
          <div className="table-wrap">
            <table className="table evidence-table">
              <thead>
                <tr><th style={{ width: '24%' }}>Destination</th><th style={{ width: 84 }}>Status</th><th>Evidence</th><th style={{ width: '34%' }}>Fix</th></tr>
              </thead>
              <tbody>
                {rows.map((d) => (
                  <tr key={d.destination} data-status={d.status}>
                    <td className="truncate"><DestinationLink connectionId={connectionId} name={d.destination} /></td>
                    <td><span className={`badge ${STATUS_TONE[d.status]}`}>{STATUS_LABEL[d.status]}</span></td>
                    <td className="evidence">{d.evidence}</td>
                    <td className="fix">{d.fix ?? <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {sorted.length === 0 && <div className="muted small">No destination in scope.</div>}
      </div>
    </section>
  );
}
