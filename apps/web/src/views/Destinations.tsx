import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import { useCallback, useMemo, useState } from 'react';
import { Link, useLocation, useParams, useSearchParams } from 'wouter';
import { useConnection } from '../api/hooks';
import { useTRPC, useTRPCClient } from '../api/trpc';
import type { Destination, DestinationPage } from '../api/types';
import { DlqBadge, HealthBadge, KindBadge } from '../components/Badges';
import { CreateDestinationButton } from '../components/DestinationAdmin';
import { Icon } from '../components/Icon';
import { PageHeader } from '../components/PageHeader';
import { SearchInput } from '../components/SearchInput';
import { Alert, EmptyState, ErrorState, LoadingRows } from '../components/States';
import { VirtualTable, type Column, type SortState } from '../components/VirtualTable';
import { formatCount, formatRate } from '../lib/format';
import { decodeParam, routes } from '../lib/routes';
import { useDebounced } from '../lib/useDebounced';

const PAGE = 500;
type SortKey = 'name' | 'depth' | 'lag' | 'publishRate';
const SORT_KEYS: SortKey[] = ['name', 'depth', 'lag', 'publishRate'];

export default function Destinations() {
  const params = useParams<{ conn: string }>();
  const connectionId = decodeParam(params.conn);
  const { connection, query: connections } = useConnection(connectionId);
  const trpc = useTRPC();
  const [, navigate] = useLocation();
  const [search, setSearchParams] = useSearchParams();
  const [text, setText] = useState(search.get('q') ?? '');
  const q = useDebounced(text.trim(), 200);
  const sortParam = search.get('sort');
  const sortKey: SortKey = SORT_KEYS.includes(sortParam as SortKey) ? (sortParam as SortKey) : 'name';
  const dir = search.get('dir') === 'desc' ? 'desc' : search.get('dir') === 'asc' ? 'asc' : sortKey === 'name' ? 'asc' : 'desc';
  const dlqOnly = search.get('dlq') === '1';

  const update = useCallback(
    (patch: Record<string, string | null>) =>
      setSearchParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          for (const [k, v] of Object.entries(patch)) {
            if (v === null || v === '') next.delete(k);
            else next.set(k, v);
          }
          return next;
        },
        { replace: true },
      ),
    [setSearchParams],
  );
  const onSearch = (v: string) => {
    setText(v);
    update({ q: v.trim() });
  };

  const input = { connectionId, search: q === '' ? undefined : q, sort: sortKey, dir, deadLettersOnly: dlqOnly || undefined, limit: PAGE } as const;
  const client = useTRPCClient();
  const list = useInfiniteQuery({
    // Keyed under the procedure's own key so invalidating destinations.list refreshes this too.
    queryKey: [...trpc.destinations.list.queryKey(), 'pages', input],
    initialPageParam: 0,
    queryFn: ({ pageParam, signal }) => client.destinations.list.query({ ...input, offset: pageParam }, { signal }),
    getNextPageParam: (last: DestinationPage, pages: DestinationPage[]) => {
      const loaded = pages.reduce((n, p) => n + p.items.length, 0);
      return loaded < last.total && last.items.length > 0 ? loaded : undefined;
    },
    enabled: connection !== undefined && connection.health.status !== 'down',
    refetchInterval: 10_000,
    placeholderData: keepPreviousData,
  });
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const total = list.data?.pages[0]?.total ?? 0;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const onEndReached = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const columns: Column<Destination>[] = useMemo(
    () => [
      {
        id: 'name', header: 'Name', width: 'minmax(240px, 3fr)', sortKey: 'name',
        render: (d) => (
          <span className="row" style={{ gap: 6 }}>
            <Link href={routes.destination(connectionId, d.name)} className="mono" onClick={(e) => e.stopPropagation()} style={{ overflow: 'hidden', textOverflow: 'ellipsis' }}>{d.name}</Link>
            {d.isDeadLetter && <DlqBadge title={d.deadLetterSources.length ? `Dead letters of ${d.deadLetterSources.join(', ')}` : 'Dead-letter queue'} />}
          </span>
        ),
      },
      { id: 'kind', header: 'Type', width: '80px', render: (d) => <span className="muted">{d.kind}</span> },
      { id: 'depth', header: 'Depth', width: '100px', align: 'right', sortKey: 'depth', render: (d) => <span style={d.isDeadLetter && (d.depth ?? 0) > 0 ? { color: 'var(--danger)', fontWeight: 600 } : undefined}>{formatCount(d.depth)}</span> },
      { id: 'inFlight', header: 'In flight', width: '90px', align: 'right', render: (d) => formatCount(d.inFlight) },
      { id: 'lag', header: 'Lag', width: '100px', align: 'right', sortKey: 'lag', render: (d) => <span style={(d.lag ?? 0) > 0 ? { color: 'var(--warn)', fontWeight: 600 } : undefined}>{formatCount(d.lag)}</span> },
      { id: 'pub', header: 'In rate', width: '90px', align: 'right', sortKey: 'publishRate', render: (d) => formatRate(d.publishRate) },
      { id: 'del', header: 'Out rate', width: '90px', align: 'right', render: (d) => formatRate(d.deliverRate) },
      { id: 'consumers', header: 'Consumers', width: '104px', align: 'right', render: (d) => formatCount(d.consumers) },
      { id: 'partitions', header: 'Partitions', width: '96px', align: 'right', render: (d) => formatCount(d.partitions) },
      {
        id: 'dlq', header: 'Dead letters to', width: 'minmax(140px, 1.4fr)',
        render: (d) => d.deadLetter === null ? <span className="muted">{d.isDeadLetter ? '' : 'none'}</span> : (
          <Link href={routes.deadLetters(connectionId, d.deadLetter)} className="mono" onClick={(e) => e.stopPropagation()}>{d.deadLetter}</Link>
        ),
      },
    ],
    [connectionId],
  );

  const sort: SortState = { key: sortKey, dir };
  const down = connection?.health.status === 'down';

  return (
    <div className="page">
      <PageHeader
        crumbs={[{ label: 'Overview', href: '/' }, { label: connection?.name ?? connectionId, href: routes.destinations(connectionId) }]}
        title={connection?.name ?? connectionId}
        badges={connection !== undefined && (<><KindBadge kind={connection.kind} /><HealthBadge health={connection.health} /></>)}
        subtitle={list.isSuccess ? `${formatCount(total)} destination${total === 1 ? '' : 's'}${q ? ` matching “${q}”` : ''}` : 'Destinations'}
        actions={
          <>
            <Link href={routes.deadLetters(connectionId)} className="btn"><Icon name="inbox" size={14} /> Dead letters</Link>
            {connection !== undefined && !down && <CreateDestinationButton connection={connection} />}
            {connection !== undefined && !connection.readOnly && (
              <Link href={routes.publish(connectionId)} className="btn primary"><Icon name="send" size={14} /> Publish</Link>
            )}
          </>
        }
      />
      {connections.isSuccess && connection === undefined && (
        <Alert tone="danger" title="Unknown connection">No connection named <code>{connectionId}</code> is configured. <Link href="/">Back to the overview</Link>.</Alert>
      )}
      {connections.isError && <ErrorState error={connections.error} onRetry={() => void connections.refetch()} />}
      {down && (
        <Alert tone="danger" title="Broker unreachable">
          {connection?.health.reason ?? 'The server cannot reach this broker.'} The list will load when it answers again.
        </Alert>
      )}
      {connection !== undefined && !down && (
        <section className="card flush">
          <div className="toolbar">
            <SearchInput value={text} onChange={onSearch} placeholder="Search destinations" label="Search destinations" />
            <label className="checkbox">
              <input type="checkbox" checked={dlqOnly} onChange={(e) => update({ dlq: e.target.checked ? '1' : null })} />
              Dead-letter queues only
            </label>
            <span className="spacer" />
            {list.isFetching && <span className="spinner" aria-hidden="true" />}
            <span className="muted small">{list.isSuccess && `${formatCount(rows.length)} of ${formatCount(total)} loaded`}</span>
          </div>
          {list.isPending ? (
            <LoadingRows rows={8} label="Loading destinations" />
          ) : list.isError ? (
            <ErrorState error={list.error} onRetry={() => void list.refetch()} />
          ) : rows.length === 0 ? (
            <EmptyState title={q || dlqOnly ? 'No destinations match' : 'No destinations yet'}>
              {q || dlqOnly ? 'Try another search or clear the filter.' : 'This broker has no topics, queues or streams.'}
            </EmptyState>
          ) : (
            <VirtualTable
              label="Destinations"
              rows={rows}
              columns={columns}
              rowKey={(d) => d.name}
              height="calc(100vh - 250px)"
              sort={sort}
              onSort={(s) => update({ sort: s.key, dir: s.dir })}
              onActivate={(d) => navigate(routes.destination(connectionId, d.name))}
              onEndReached={onEndReached}
            />
          )}
        </section>
      )}
    </div>
  );
}
