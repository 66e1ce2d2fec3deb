import { capabilitiesOf } from '../api/capabilities';
import { useQuery } from '@tanstack/react-query';
import { Link, useLocation, useParams } from 'wouter';
import { useConnection } from '../api/hooks';
import { useTRPC } from '../api/trpc';
import { DlqBadge, HealthBadge, KindBadge } from '../components/Badges';
import { DeleteDestinationButton } from '../components/DestinationAdmin';
import { Icon } from '../components/Icon';
import { PageHeader } from '../components/PageHeader';
import { DestructiveReadNote } from '../components/PeekGuard';
import { Alert, ErrorState, LoadingRows } from '../components/States';
import { formatCount, formatRate } from '../lib/format';
import { decodeParam, routes, type DestinationTab } from '../lib/routes';
import { BrowseTab } from './destination/BrowseTab';
import { ConfigTab } from './destination/ConfigTab';
import { ConsumersTab } from './destination/ConsumersTab';
import { MetricsTab } from './destination/MetricsTab';
import { TailTab } from './destination/TailTab';
import { PublishForm } from './PublishPage';

const TABS: { id: DestinationTab; label: string }[] = [
  { id: 'messages', label: 'Messages' },
  { id: 'tail', label: 'Live tail' },
  { id: 'consumers', label: 'Consumers' },
  { id: 'metrics', label: 'Metrics' },
  { id: 'config', label: 'Configuration' },
  { id: 'publish', label: 'Publish' },
];

export default function DestinationPage() {
  const params = useParams<{ conn: string; dest: string; tab?: string }>();
  const connectionId = decodeParam(params.conn);
  const name = decodeParam(params.dest);
  const tab = (TABS.find((t) => t.id === params.tab)?.id ?? (params.tab === undefined ? 'messages' : null));
  const [location] = useLocation();
  const { connection, query: connections } = useConnection(connectionId);
  const trpc = useTRPC();
  const down = connection?.health.status === 'down';
  const detail = useQuery(trpc.destinations.describe.queryOptions({ connectionId, name }, { enabled: connection !== undefined && !down, refetchInterval: 5_000 }));
  const d = detail.data;

  return (
    <div className="page">
      <PageHeader
        crumbs={[
          { label: 'Overview', href: '/' },
          { label: connection?.name ?? connectionId, href: routes.destinations(connectionId) },
          { label: 'Destinations', href: routes.destinations(connectionId) },
        ]}
        title={<span className="mono">{name}</span>}
        badges={
          <>
            {d !== undefined && <KindBadge kind={d.kind} />}
            {d?.isDeadLetter && <DlqBadge />}
            {connection !== undefined && connection.health.status !== 'up' && <HealthBadge health={connection.health} />}
            {connection !== undefined && <DestructiveReadNote capabilities={capabilitiesOf(connection)} />}
          </>
        }
        actions={
          <>
            {d?.deadLetter != null && (
              <Link href={routes.deadLetters(connectionId, d.deadLetter)} className="btn"><Icon name="inbox" size={14} /> Dead letters: <span className="mono">{d.deadLetter}</span></Link>
            )}
            {d?.isDeadLetter && (
              <Link href={routes.deadLetters(connectionId, name)} className="btn primary"><Icon name="redo" size={14} /> Redrive…</Link>
            )}
            {connection !== undefined && d !== undefined && <DeleteDestinationButton connection={connection} name={name} detail={d} />}
          </>
        }
      />
      {connections.isError && <ErrorState error={connections.error} onRetry={() => void connections.refetch()} />}
      {connections.isSuccess && connection === undefined && <Alert tone="danger" title="Unknown connection">No connection named <code>{connectionId}</code> is configured.</Alert>}
      {down && <Alert tone="danger" title="Broker unreachable">{connection?.health.reason ?? 'The server cannot reach this broker.'}</Alert>}
      {detail.isError && <ErrorState error={detail.error} onRetry={() => void detail.refetch()} compact />}
      {d !== undefined && (
        <div className="card" style={{ marginBottom: 14 }}>
          <div className="card-body stats">
            <Stat label="Depth" value={formatCount(d.depth)} />
            <Stat label="In flight" value={formatCount(d.inFlight)} />
            <Stat label="Lag" value={formatCount(d.lag)} />
            <Stat label="In rate" value={formatRate(d.publishRate)} />
            <Stat label="Out rate" value={formatRate(d.deliverRate)} />
            <Stat label="Consumers" value={formatCount(d.consumers)} />
            {d.partitions !== null && <Stat label="Partitions" value={formatCount(d.partitions)} />}
            {d.isDeadLetter && d.deadLetterSources.length > 0 && <Stat label="Dead letters of" value={d.deadLetterSources.join(', ')} small />}
          </div>
        </div>
      )}
      {connection !== undefined && !down && (
        <>
          <nav className="tabs" aria-label="Destination views">
            {TABS.filter((t) => t.id !== 'publish' || !connection.readOnly).map((t) => {
              const href = routes.destination(connectionId, name, t.id);
              return (
                <Link key={t.id} href={href} className="tab" aria-current={location === href ? 'page' : undefined}>
                  {t.label}
                </Link>
              );
            })}
          </nav>
          {detail.isPending && tab !== 'messages' && tab !== 'tail' ? <LoadingRows /> : null}
          {tab === 'messages' && <BrowseTab key={name} connection={connection} destination={name} detail={d} />}
          {tab === 'tail' && <TailTab key={name} connection={connection} destination={name} detail={d} />}
          {tab === 'consumers' && d !== undefined && <ConsumersTab connection={connection} destination={name} />}
          {tab === 'metrics' && <MetricsTab connection={connection} destination={name} />}
          {tab === 'config' && d !== undefined && <ConfigTab detail={d} />}
          {tab === 'publish' && <PublishForm connection={connection} destination={name} />}
          {tab === null && <Alert tone="warn" title="Unknown view">There is no “{params.tab}” view. Pick one of the tabs above.</Alert>}
        </>
      )}
    </div>
  );
}

function Stat({ label, value, small = false }: { label: string; value: string; small?: boolean }) {
  return (
    <div className="stat">
      <div className="label">{label}</div>
      <div className={`value ${small ? 'small mono' : ''}`}>{value}</div>
    </div>
  );
}
