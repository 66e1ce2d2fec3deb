import { capabilitiesOf } from '../../api/capabilities';
import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useSearchParams } from 'wouter';
import { useTRPC } from '../../api/trpc';
import type { BrowseInput, Connection, DestinationDetail, WireMessage } from '../../api/types';
import { ExportButtons } from '../../components/ExportMenu';
import { FilterInput } from '../../components/FilterInput';
import { Icon } from '../../components/Icon';
import { MessageTable, messageKey } from '../../components/MessageTable';
import { MessageViewer } from '../../components/MessageViewer';
import { PeekGuard } from '../../components/PeekGuard';
import { Alert, EmptyState, ErrorState, LoadingRows } from '../../components/States';
import { formatCount } from '../../lib/format';
import { useHotkey } from '../../lib/hotkeys';

type From = 'newest' | 'oldest' | 'position' | 'time';

export function toBrowseStart(from: From, position: string, time: string): BrowseInput['start'] | null {
  if (from === 'position') return position.trim() === '' ? null : { from: 'position', position: position.trim() };
  if (from === 'time') {
    const t = new Date(time);
    return Number.isNaN(t.getTime()) ? null : { from: 'timestamp', timestamp: t.toISOString() };
  }
  return { from };
}

export function BrowseTab({ connection, destination, detail }: { connection: Connection; destination: string; detail: DestinationDetail | undefined }) {
  const caps = capabilitiesOf(connection);
  const trpc = useTRPC();
  const [params, setParams] = useSearchParams();
  const [confirmed, setConfirmed] = useState(false);
  const from = (['newest', 'oldest', 'position', 'time'] as const).find((f) => f === params.get('from')) ?? 'newest';
  const [position, setPosition] = useState(params.get('pos') ?? '');
  const [time, setTime] = useState(params.get('ts') ?? '');
  const partitionParam = params.get('p');
  const partition = partitionParam === null || partitionParam === '' ? null : Number(partitionParam);
  const filter = params.get('filter') ?? '';
  const limit = Number(params.get('limit') ?? 100) || 100;
  const [selected, setSelected] = useState<WireMessage | null>(null);

  const set = (patch: Record<string, string | null>) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      for (const [k, v] of Object.entries(patch)) {
        if (v === null || v === '') next.delete(k);
        else next.set(k, v);
      }
      return next;
    }, { replace: true });

  const start = toBrowseStart(from, params.get('pos') ?? '', params.get('ts') ?? '');
  const input = {
    connectionId: connection.id,
    destination,
    start: start ?? { from: 'newest' as const },
    partition: caps.partitions ? partition : null,
    limit,
    ...(filter !== '' ? { filter } : {}),
    ...(caps.peekIsDestructive ? { force: true } : {}),
  };
  const browse = useInfiniteQuery(
    trpc.messages.browse.infiniteQueryOptions(input, {
      enabled: (confirmed || !caps.peekIsDestructive) && start !== null,
      getNextPageParam: (last) => last.nextCursor ?? undefined,
      // A destructive read is never repeated behind the operator's back.
      staleTime: caps.peekIsDestructive ? Infinity : 10_000,
      refetchOnWindowFocus: !caps.peekIsDestructive,
      placeholderData: keepPreviousData,
      retry: false,
    }),
  );
  const messages = useMemo(() => browse.data?.pages.flatMap((p) => p.messages) ?? [], [browse.data]);
  const scanned = browse.data?.pages.reduce((n, p) => n + p.scanned, 0) ?? 0;
  const warnings = [...new Set(browse.data?.pages.flatMap((p) => p.warnings) ?? [])];
  const destructive = browse.data?.pages.some((p) => p.destructive) ?? false;
  useHotkey('Escape', () => setSelected(null), selected !== null);

  const partitions = detail?.partitionDetails.map((p) => p.partition) ?? [];

  return (
    <PeekGuard capabilities={caps} action="Browse" confirmed={confirmed} onConfirm={() => setConfirmed(true)}>
      <div className={selected ? 'split' : undefined}>
        <section className="card flush" aria-label="Stored messages">
          <div className="toolbar">
            <div className="btn-group" role="group" aria-label="Start from">
              <button type="button" className="btn sm" aria-pressed={from === 'newest'} onClick={() => set({ from: null })}>Newest</button>
              <button type="button" className="btn sm" aria-pressed={from === 'oldest'} onClick={() => set({ from: 'oldest' })}>Oldest</button>
              {caps.browseByPosition && <button type="button" className="btn sm" aria-pressed={from === 'position'} onClick={() => set({ from: 'position' })}>Position</button>}
              {caps.browseByTimestamp && <button type="button" className="btn sm" aria-pressed={from === 'time'} onClick={() => set({ from: 'time' })}>Time</button>}
            </div>
            {from === 'position' && (
              <form className="row" onSubmit={(e) => { e.preventDefault(); set({ pos: position.trim() }); }}>
                <input className="input mono" style={{ width: 140, height: 24 }} aria-label="Start position" placeholder={caps.partitions ? 'offset' : 'position'} value={position} onChange={(e) => setPosition(e.target.value)} />
                <button type="submit" className="btn sm">Go</button>
              </form>
            )}
            {from === 'time' && (
              <form className="row" onSubmit={(e) => { e.preventDefault(); set({ ts: time }); }}>
                <input type="datetime-local" step="1" className="input" style={{ height: 24 }} aria-label="Start time" value={time} onChange={(e) => setTime(e.target.value)} />
                <button type="submit" className="btn sm">Go</button>
              </form>
            )}
            {caps.partitions && (
              <select className="input" style={{ height: 24 }} aria-label="Partition" value={partition ?? ''} onChange={(e) => set({ p: e.target.value })}>
                <option value="">All partitions</option>
                {partitions.map((p) => <option key={p} value={p}>Partition {p}</option>)}
              </select>
            )}
            <select className="input" style={{ height: 24 }} aria-label="Page size" value={limit} onChange={(e) => set({ limit: e.target.value === '100' ? null : e.target.value })}>
              {[50, 100, 200, 500].map((n) => <option key={n} value={n}>{n} per page</option>)}
            </select>
            <div className="sep" />
            <FilterInput value={filter} onApply={(f) => set({ filter: f })} />
            <span className="spacer" />
            <button type="button" className="btn sm" onClick={() => void browse.refetch()} disabled={browse.isFetching} title="Read the page again">
              <Icon name="refresh" size={14} /> Refresh
            </button>
            <ExportButtons messages={messages} destination={destination} />
          </div>
          {(warnings.length > 0 || destructive) && (
            <div style={{ padding: '8px 10px 0' }}>
              <Alert tone="warn" title={destructive ? 'This read had side effects on the broker' : 'Broker warnings'}>
                {warnings.map((w) => <div key={w}>{w}</div>)}
              </Alert>
            </div>
          )}
          {start === null ? (
            <EmptyState title={from === 'position' ? 'Enter a position to start from' : 'Pick a time to start from'} />
          ) : browse.isPending ? (
            <LoadingRows rows={8} label="Loading messages" />
          ) : browse.isError ? (
            <ErrorState error={browse.error} onRetry={() => void browse.refetch()} />
          ) : messages.length === 0 ? (
            <EmptyState title={filter ? 'No message matches the filter' : 'No messages'}>
              {filter ? `Scanned ${formatCount(scanned)} messages.` : 'This destination holds no stored messages right now. Try the live tail to watch new ones arrive.'}
            </EmptyState>
          ) : (
            <>
              <MessageTable
                label="Messages"
                messages={messages}
                partitions={caps.partitions}
                selectedKey={selected === null ? null : messageKey(selected)}
                onSelect={setSelected}
                height="calc(100vh - 360px)"
                showDeadLetter={detail?.isDeadLetter ?? false}
              />
              <div className="toolbar" style={{ borderTop: '1px solid var(--border)', borderBottom: 0 }}>
                <span className="muted small">
                  {formatCount(messages.length)} shown{filter ? ` · ${formatCount(scanned)} scanned` : ''}
                  {from === 'newest' ? ' · newest first' : ''}
                </span>
                <span className="spacer" />
                {browse.hasNextPage ? (
                  <button type="button" className="btn sm" onClick={() => void browse.fetchNextPage()} disabled={browse.isFetchingNextPage}>
                    {browse.isFetchingNextPage ? 'Loading…' : `Load ${limit} more`}
                  </button>
                ) : (
                  <span className="muted small">End of destination</span>
                )}
              </div>
            </>
          )}
        </section>
        {selected !== null && (
          <div className="sticky-panel">
            <MessageViewer message={selected} connectionId={connection.id} readOnly={connection.readOnly} onClose={() => setSelected(null)} />
          </div>
        )}
      </div>
    </PeekGuard>
  );
}
