import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { useConnections } from '../api/hooks';
import { useTRPC } from '../api/trpc';
import type { Connection } from '../api/types';
import { DlqBadge, HealthBadge, KindBadge } from '../components/Badges';
import { FitnessScores } from '../components/Fitness';
import { Icon } from '../components/Icon';
import { Alert, EmptyState, ErrorState, LoadingRows } from '../components/States';
import { formatAgo, formatCompact, formatCount, formatDuration } from '../lib/format';
import { routes } from '../lib/routes';

/** A broker that is down is what the operator came for: it goes first. */
const HEALTH_ORDER: Record<string, number> = { down: 0, connecting: 1, up: 2 };

/** The most destinations one destinations.list request returns. */
const PAGE = 500;

export default function Overview() {
  const connections = useConnections();
  const list = connections.data ?? [];
  const up = list.filter((c) => c.health.status === 'up').length;
  return (
    <div className="page">
      <div className="page-header">
        <div className="titles">
          <h1>Overview</h1>
          <div className="muted">
            {connections.isSuccess ? `${list.length} connection${list.length === 1 ? '' : 's'} · ${up} healthy${list.length - up > 0 ? ` · ${list.length - up} not healthy` : ''}` : 'Connections, health and fitness'}
          </div>
        </div>
      </div>
      {connections.isPending && <div className="card"><LoadingRows label="Loading connections" /></div>}
      {connections.isError && <ErrorState error={connections.error} onRetry={() => void connections.refetch()} />}
      {connections.isSuccess && list.length === 0 && (
        <div className="card">
          <EmptyState title="No connections configured">Add a broker connection to the server's configuration file or environment, then reload.</EmptyState>
        </div>
      )}
      <div className="stack">
        {[...list].sort((a, b) => (HEALTH_ORDER[a.health.status] ?? 2) - (HEALTH_ORDER[b.health.status] ?? 2)).map((c) => (
          <ConnectionCard key={c.id} connection={c} />
        ))}
      </div>
    </div>
  );
}

function ConnectionCard({ connection: c }: { connection: Connection }) {
  const trpc = useTRPC();
  const healthy = c.health.status !== 'down';
  // The server pages destinations (at most PAGE a request): totals add up the deepest PAGE, and
  // say so when the broker has more. Dead-letter queues are listed on their own, so their total
  // stays exact unless there are more than PAGE of them.
  const all = useQuery(trpc.destinations.list.queryOptions({ connectionId: c.id, sort: 'depth', dir: 'desc', offset: 0, limit: PAGE }, { enabled: healthy, refetchInterval: 10_000 }));
  const lag = useQuery(trpc.destinations.list.queryOptions({ connectionId: c.id, sort: 'lag', dir: 'desc', offset: 0, limit: 5 }, { enabled: healthy, refetchInterval: 10_000 }));
  const dlqs = useQuery(trpc.destinations.list.queryOptions({ connectionId: c.id, sort: 'depth', dir: 'desc', offset: 0, limit: PAGE, deadLettersOnly: true }, { enabled: healthy, refetchInterval: 10_000 }));
  const items = all.data?.items ?? [];
  const partial = (all.data?.total ?? 0) > items.length;
  const dlqItems = dlqs.data?.items ?? [];
  const dlqsPartial = (dlqs.data?.total ?? 0) > dlqItems.length;
  const sum = (rows: typeof items, f: (d: (typeof items)[number]) => number | null) => rows.reduce((acc, d) => acc + (f(d) ?? 0), 0);
  const deadLetters = sum(dlqItems, (d) => d.depth);
  const lagging = (lag.data?.items ?? []).filter((d) => (d.lag ?? 0) > 0);
  const deepDlqs = dlqItems.filter((d) => (d.depth ?? 0) > 0).slice(0, 5);
  const partialLabel = (label: string, isPartial: boolean) => (isPartial ? `${label} (top ${PAGE})` : label);

  return (
    <section className="card" aria-label={`Connection ${c.name}`} data-connection={c.id}>
      <div className="card-header">
        <Link href={routes.destinations(c.id)}>
          <h2>{c.name}</h2>
        </Link>
        <KindBadge kind={c.kind} />
        <HealthBadge health={c.health} />
        {c.readOnly && <span className="badge"><Icon name="lock" size={12} /> read-only</span>}
        <span className="spacer" />
        <span className="muted small">
          {c.health.version ?? ''}
          {c.health.latencyMs !== null && c.health.status === 'up' && ` · ${formatDuration(c.health.latencyMs)}`}
        </span>
        <Link href={routes.destinations(c.id)} className="btn sm">Destinations</Link>
        <Link href={routes.deadLetters(c.id)} className="btn sm">Dead letters</Link>
      </div>
      <div className="card-body stack">
        {!healthy && (
          <Alert tone="danger" title="Broker unreachable">
            {c.health.reason ?? 'The server cannot reach this broker.'}
            <div className="muted small">Last checked {formatAgo(c.health.checkedAt)}. Totals, fitness and lag appear when it answers again.</div>
          </Alert>
        )}
        {healthy && (<>
        {all.isError && <ErrorState error={all.error} onRetry={() => void all.refetch()} compact />}
        <div className="stats">
          <Stat label="Destinations" value={all.isSuccess ? formatCount(all.data.total) : null} pending={healthy && all.isPending} />
          <Stat label={partialLabel('Messages stored', partial)} value={all.isSuccess ? formatCompact(sum(items, (d) => d.depth)) : null} pending={healthy && all.isPending} />
          <Stat label={partialLabel('In flight', partial)} value={all.isSuccess ? formatCompact(sum(items, (d) => d.inFlight)) : null} pending={healthy && all.isPending} />
          <Stat label={partialLabel('Consumer lag', partial)} value={all.isSuccess ? formatCompact(sum(items, (d) => d.lag)) : null} pending={healthy && all.isPending} />
          <Stat label={partialLabel('Dead letters', dlqsPartial)} value={dlqs.isSuccess ? formatCompact(deadLetters) : null} pending={healthy && dlqs.isPending} tone={deadLetters > 0 ? 'danger' : undefined} />
        </div>
        {(partial || dlqsPartial) && (
          <div className="muted small" data-testid="partial-totals">
            {partial && `Messages stored, in flight and consumer lag add up only the ${PAGE} deepest of ${formatCount(all.data?.total)} destinations. `}
            {dlqsPartial && `Dead letters add up only the ${PAGE} deepest of ${formatCount(dlqs.data?.total)} dead-letter queues. `}
            The full totals can only be higher.
          </div>
        )}
        <div>
          <h3 style={{ marginBottom: 6 }}>Fitness</h3>
          <FitnessScores connectionId={c.id} enabled={healthy} />
        </div>
        <div className="grid cols-2">
          <TopList
            title="Most lag"
            empty={healthy ? 'No consumer lag' : 'Unavailable'}
            loading={healthy && lag.isPending}
            rows={lagging.map((d) => ({ name: d.name, value: d.lag, href: routes.destination(c.id, d.name, 'consumers'), dlq: d.isDeadLetter }))}
            unit="behind"
          />
          <TopList
            title="Deepest dead-letter queues"
            empty={healthy ? 'No dead letters waiting' : 'Unavailable'}
            loading={healthy && dlqs.isPending}
            rows={deepDlqs.map((d) => ({ name: d.name, value: d.depth, href: routes.deadLetters(c.id, d.name), dlq: true }))}
            unit="messages"
          />
        </div>
        </>)}
      </div>
    </section>
  );
}

function Stat({ label, value, pending, tone }: { label: string; value: string | null; pending: boolean; tone?: 'danger' }) {
  return (
    <div className="stat">
      <div className="label">{label}</div>
      <div className="value" style={tone === 'danger' ? { color: 'var(--danger)' } : undefined}>
        {pending ? <span className="skeleton" style={{ display: 'block', width: 60, height: 22 }} /> : (value ?? '—')}
      </div>
    </div>
  );
}

function TopList({ title, rows, empty, loading, unit }: { title: string; rows: { name: string; value: number | null; href: string; dlq: boolean }[]; empty: string; loading: boolean; unit: string }) {
  return (
    <div>
      <h3 style={{ marginBottom: 6 }}>{title}</h3>
      {loading ? (
        <LoadingRows rows={3} />
      ) : rows.length === 0 ? (
        <div className="muted small" style={{ padding: '6px 0' }}>{empty}</div>
      ) : (
        <table className="table">
          <tbody>
            {rows.map((r) => (
              <tr key={r.name}>
                <td className="truncate">
                  <Link href={r.href}>{r.name}</Link> {r.dlq && <DlqBadge />}
                </td>
                <td className="num" style={{ width: 140 }}>
                  {formatCount(r.value)} <span className="muted small">{unit}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
