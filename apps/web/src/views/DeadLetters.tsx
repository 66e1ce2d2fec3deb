import { type UseQueryResult, keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, useParams } from 'wouter';
import { capabilitiesOf } from '../api/capabilities';
import { describeError } from '../api/errors';
import { useConnection } from '../api/hooks';
import { useTRPC, useTRPCClient } from '../api/trpc';
import type { Connection, DeadLetterLink, RedriveSelection, RedriveTask, WireMessage } from '../api/types';
import { HealthBadge } from '../components/Badges';
import { TypedConfirmDialog } from '../components/Dialog';
import { ExportButtons } from '../components/ExportMenu';
import { FilterInput } from '../components/FilterInput';
import { Icon } from '../components/Icon';
import { MessageTable, messageKey } from '../components/MessageTable';
import { MessageViewer } from '../components/MessageViewer';
import { PageHeader } from '../components/PageHeader';
import { PeekGuard } from '../components/PeekGuard';
import { RedrivePanel, isFinal, selectionLabel } from '../components/RedrivePanel';
import { Alert, EmptyState, ErrorState, LoadingRows, ReadOnlyNote } from '../components/States';
import { useToast } from '../components/Toasts';
import { formatCount } from '../lib/format';
import { useHotkey } from '../lib/hotkeys';
import { decodeParam, routes } from '../lib/routes';
import { RedriveConfirmDialog, RedriveFilterDialog, type PendingRedrive } from './dead-letters/RedriveDialogs';

export default function DeadLetters() {
  const params = useParams<{ conn: string; dlq?: string }>();
  const connectionId = decodeParam(params.conn);
  const dlqName = params.dlq === undefined ? null : decodeParam(params.dlq);
  const { connection, query: connections } = useConnection(connectionId);
  const trpc = useTRPC();
  const down = connection?.health.status === 'down';
  const links = useQuery(trpc.deadLetters.list.queryOptions({ connectionId }, { enabled: connection !== undefined && !down, refetchInterval: 10_000 }));
  const selected = links.data?.find((l) => l.deadLetter === dlqName) ?? null;

  return (
    <div className="page">
      <PageHeader
        crumbs={[
          { label: 'Overview', href: '/' },
          { label: connection?.name ?? connectionId, href: routes.destinations(connectionId) },
          ...(dlqName === null ? [] : [{ label: 'Dead letters', href: routes.deadLetters(connectionId) }]),
        ]}
        title={dlqName === null ? 'Dead letters' : <span className="mono">{dlqName}</span>}
        badges={connection !== undefined && connection.health.status !== 'up' ? <HealthBadge health={connection.health} /> : undefined}
        subtitle={dlqName === null ? 'Messages that failed processing, where they came from, and the way back.' : selected !== null ? <>Dead letters of {selected.origins.map((o, i) => <span key={o}>{i > 0 && ', '}<Link href={routes.destination(connectionId, o)} className="mono">{o}</Link></span>)}{selected.origins.length === 0 && 'unknown origins'} · linked by {selected.via}</> : undefined}
      />
      {connections.isError && <ErrorState error={connections.error} onRetry={() => void connections.refetch()} />}
      {connections.isSuccess && connection === undefined && <Alert tone="danger" title="Unknown connection">No connection named <code>{connectionId}</code> is configured.</Alert>}
      {down && <Alert tone="danger" title="Broker unreachable">{connection?.health.reason ?? 'The server cannot reach this broker.'}</Alert>}
      {connection !== undefined && !down && (
        <div className="stack">
          {connection.readOnly && <ReadOnlyNote what="Redrive and purge" />}
          <DeadLetterList connectionId={connectionId} links={links} current={dlqName} />
          {dlqName !== null && <DeadLetterQueue key={dlqName} connection={connection} dlq={dlqName} link={selected} />}
        </div>
      )}
    </div>
  );
}

function DeadLetterList({ connectionId, links, current }: { connectionId: string; links: UseQueryResult<DeadLetterLink[], unknown>; current: string | null }) {
  if (links.isPending) return <div className="card"><LoadingRows rows={3} label="Loading dead-letter queues" /></div>;
  if (links.isError) return <div className="card"><ErrorState error={links.error} onRetry={() => void links.refetch()} /></div>;
  if (links.data.length === 0) {
    return (
      <div className="card">
        <EmptyState title="No dead-letter queues found">
          No destination on this broker is configured or named as a dead-letter queue. Destinations without one lose failed messages, or retry them forever.
        </EmptyState>
      </div>
    );
  }
  const sorted = [...links.data].sort((a, b) => (b.depth ?? -1) - (a.depth ?? -1));
  return (
    <section className="card flush" aria-label="Dead-letter queues">
      <div className="table-wrap" style={{ maxHeight: current === null ? undefined : 220 }}>
        <table className="table">
          <thead>
            <tr><th>Dead-letter queue</th><th>Receives from</th><th className="num">Messages</th><th>Linked by</th><th /></tr>
          </thead>
          <tbody>
            {sorted.map((l) => (
              <tr key={l.deadLetter} aria-current={l.deadLetter === current ? 'true' : undefined} style={l.deadLetter === current ? { background: 'var(--row-selected)' } : undefined}>
                <td className="mono"><Link href={routes.deadLetters(connectionId, l.deadLetter)}>{l.deadLetter}</Link></td>
                <td className="mono truncate" title={l.origins.join(', ')}>{l.origins.length === 0 ? <span className="muted">unknown</span> : l.origins.join(', ')}</td>
                <td className="num" style={(l.depth ?? 0) > 0 ? { color: 'var(--danger)', fontWeight: 600 } : undefined}>{formatCount(l.depth)}</td>
                <td className="muted">{l.via}</td>
                <td className="num"><Link href={routes.deadLetters(connectionId, l.deadLetter)} className="btn sm">{l.deadLetter === current ? 'Open' : 'Inspect'}</Link></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Runs a dry-run redrive and resolves with how many messages it would move. */
async function countByDryRun(client: ReturnType<typeof useTRPCClient>, connectionId: string, source: string, target: string | null, selection: RedriveSelection): Promise<number> {
  let task = await client.redrive.start.mutate({ connectionId, source, target, selection, ratePerSecond: null, dryRun: true });
  const deadline = Date.now() + 30_000;
  while (!isFinal(task.status) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    task = await client.redrive.get.query({ taskId: task.id });
  }
  if (task.status === 'failed') throw new Error(task.error ?? 'The dry run failed');
  return task.progress.moved;
}

function DeadLetterQueue({ connection, dlq, link }: { connection: Connection; dlq: string; link: DeadLetterLink | null }) {
  const caps = capabilitiesOf(connection);
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const notify = useToast();
  const [confirmedPeek, setConfirmedPeek] = useState(false);
  const [filter, setFilter] = useState('');
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [viewing, setViewing] = useState<WireMessage | null>(null);
  const [target, setTarget] = useState<string>('');
  const [pending, setPending] = useState<PendingRedrive | null>(null);
  const [rateText, setRateText] = useState('');
  const [purging, setPurging] = useState(false);
  const [filterDialog, setFilterDialog] = useState(false);
  const [activeTask, setActiveTask] = useState<RedriveTask | null>(null);
  const readOnly = connection.readOnly;
  const mutationReason = readOnly ? 'This connection is read-only' : undefined;

  const detail = useQuery(trpc.destinations.describe.queryOptions({ connectionId: connection.id, name: dlq }, { refetchInterval: 5_000 }));
  const depth = detail.data?.depth ?? link?.depth ?? null;
  const tasks = useQuery(trpc.redrive.list.queryOptions({ connectionId: connection.id }, { refetchInterval: 10_000 }));
  const running = tasks.data?.find((t) => t.source === dlq && t.status === 'running' && !t.dryRun) ?? null;
  const recent = (tasks.data ?? []).filter((t) => t.source === dlq && !t.dryRun).slice(0, 5);
  useEffect(() => {
    if (activeTask === null && running !== null) setActiveTask(running);
  }, [running, activeTask]);

  const destinations = useQuery(trpc.destinations.list.queryOptions({ connectionId: connection.id, offset: 0, limit: 500, sort: 'name', dir: 'asc' }));
  const input = { connectionId: connection.id, destination: dlq, start: { from: 'newest' as const }, limit: 100, ...(filter ? { filter } : {}), ...(caps.peekIsDestructive ? { force: true } : {}) };
  const browse = useInfiniteQuery(
    trpc.messages.browse.infiniteQueryOptions(input, {
      enabled: confirmedPeek || !caps.peekIsDestructive,
      getNextPageParam: (last) => last.nextCursor ?? undefined,
      staleTime: caps.peekIsDestructive ? Infinity : 10_000,
      refetchOnWindowFocus: !caps.peekIsDestructive,
      placeholderData: keepPreviousData,
      retry: false,
    }),
  );
  const messages = useMemo(() => browse.data?.pages.flatMap((p) => p.messages) ?? [], [browse.data]);
  const toggle = useCallback((m: WireMessage) => setChecked((prev) => {
    const next = new Set(prev);
    if (next.has(m.id)) next.delete(m.id);
    else next.add(m.id);
    return next;
  }), []);
  useHotkey('Escape', () => setViewing(null), viewing !== null);

  const start = useMutation(trpc.redrive.start.mutationOptions({
    onSuccess: (task) => {
      setActiveTask(task);
      setChecked(new Set());
      setPending(null);
      void queryClient.invalidateQueries(trpc.redrive.list.pathFilter());
    },
    onError: (e) => notify(describeError(e).message, 'danger'),
  }));
  const purge = useMutation(trpc.destinations.purge.mutationOptions({
    onSuccess: (r) => {
      setPurging(false);
      notify(r.removed === null ? `Purged ${dlq}` : `Purged ${formatCount(r.removed)} messages from ${dlq}`);
      setChecked(new Set());
      void queryClient.invalidateQueries(trpc.destinations.pathFilter());
      void queryClient.invalidateQueries(trpc.deadLetters.pathFilter());
      void queryClient.invalidateQueries(trpc.messages.browse.pathFilter());
    },
    onError: (e) => notify(describeError(e).message, 'danger'),
  }));

  const targetLabel = target === '' ? (link?.origins.length === 1 ? `its origin (${link.origins[0]})` : "each message's origin") : target;
  const ask = (selection: RedriveSelection, label: string, count: number | null, countNote: string) => setPending({ selection, label, count, countNote, dryRun: false });
  const askFilter = async (expression: string) => {
    setFilterDialog(false);
    const selection: RedriveSelection = { kind: 'filter', expression };
    setPending({ selection, label: `messages matching ${expression}`, count: null, countNote: 'Counting matches (dry run)…', dryRun: false });
    try {
      const n = await countByDryRun(client, connection.id, dlq, target === '' ? null : target, selection);
      setPending((p) => (p?.selection === selection ? { ...p, count: n, countNote: 'counted by a dry run just now' } : p));
    } catch (e) {
      setPending((p) => (p?.selection === selection ? { ...p, countNote: `Could not count: ${describeError(e).message}` } : p));
    }
  };
  const busy = running !== null || start.isPending;

  return (
    <>
      <section className="card" aria-label="Redrive">
        <div className="card-body">
          <div className="row wrap">
            <div className="stat" style={{ minWidth: 120 }}>
              <div className="label">Messages</div>
              <div className="value" style={(depth ?? 0) > 0 ? { color: 'var(--danger)' } : undefined}>{formatCount(depth)}</div>
            </div>
            <div className="field" style={{ minWidth: 240 }}>
              <label htmlFor="redrive-target">Redrive to</label>
              <select id="redrive-target" className="input" value={target} onChange={(e) => setTarget(e.target.value)} disabled={readOnly}>
                <option value="">Back to origin{link?.origins.length === 1 ? ` (${link.origins[0]})` : ''}</option>
                {destinations.data?.items.filter((d) => d.name !== dlq).map((d) => <option key={d.name} value={d.name}>{d.name}</option>)}
              </select>
            </div>
            <span className="spacer" />
            <button type="button" className="btn primary" disabled={readOnly || busy || depth === 0} title={mutationReason} onClick={() => ask({ kind: 'all' }, 'all messages', depth, 'current depth of the queue')}>
              <Icon name="redo" size={14} /> Redrive all{depth !== null ? ` (${formatCount(depth)})` : ''}
            </button>
            <button type="button" className="btn" disabled={readOnly || busy || checked.size === 0} title={mutationReason ?? (checked.size === 0 ? 'Tick messages in the list first' : undefined)} onClick={() => ask({ kind: 'ids', ids: [...checked] }, `${checked.size} selected message${checked.size === 1 ? '' : 's'}`, checked.size, 'ticked in the list')}>
              Redrive selected ({checked.size})
            </button>
            <button type="button" className="btn" disabled={readOnly || busy} title={mutationReason} onClick={() => setFilterDialog(true)}>
              <Icon name="filter" size={14} /> Redrive matching…
            </button>
            {caps.purge && (
              <button type="button" className="btn danger-outline" disabled={readOnly || busy || depth === 0} title={mutationReason} onClick={() => setPurging(true)}>
                <Icon name="trash" size={14} /> Purge…
              </button>
            )}
          </div>
          {caps.nativeRedrive && <div className="muted small" style={{ marginTop: 6 }}>This broker moves dead letters itself (native redrive); Mailroom starts and watches the task.</div>}
        </div>
      </section>

      {activeTask !== null && <RedrivePanel task={activeTask} readOnly={readOnly} onDismiss={() => setActiveTask(null)} />}

      <PeekGuard capabilities={caps} action="Show the messages" confirmed={confirmedPeek} onConfirm={() => setConfirmedPeek(true)}>
        <div className={viewing ? 'split split-wide-list' : undefined}>
          <section className="card flush" aria-label="Dead-lettered messages">
            <div className="toolbar">
              <FilterInput value={filter} onApply={setFilter} />
              <span className="spacer" />
              {messages.length > 0 && (
                <button type="button" className="btn sm ghost" onClick={() => setChecked(checked.size === messages.length ? new Set() : new Set(messages.map((m) => m.id)))}>
                  {checked.size === messages.length ? 'Select none' : `Select all ${messages.length} shown`}
                </button>
              )}
              <button type="button" className="btn sm" onClick={() => void browse.refetch()} disabled={browse.isFetching}><Icon name="refresh" size={14} /> Refresh</button>
              <ExportButtons messages={messages} destination={dlq} />
            </div>
            {browse.isPending ? <LoadingRows rows={6} label="Loading dead letters" /> : browse.isError ? <ErrorState error={browse.error} onRetry={() => void browse.refetch()} /> : messages.length === 0 ? (
              <EmptyState title={filter ? 'No dead letter matches the filter' : 'This dead-letter queue is empty'}>{filter ? 'Clear the filter to see every message.' : 'Nothing has failed here, or everything was redriven.'}</EmptyState>
            ) : (
              <>
                <MessageTable label="Dead letters" messages={messages} partitions={caps.partitions} selectedKey={viewing === null ? null : messageKey(viewing)} onSelect={setViewing} height="calc(100vh - 480px)" showDeadLetter checked={checked} onToggle={toggle} />
                <div className="toolbar" style={{ borderTop: '1px solid var(--border)', borderBottom: 0 }}>
                  <span className="muted small">{formatCount(messages.length)} shown · {formatCount(checked.size)} selected</span>
                  <span className="spacer" />
                  {browse.hasNextPage && <button type="button" className="btn sm" onClick={() => void browse.fetchNextPage()} disabled={browse.isFetchingNextPage}>Load more</button>}
                </div>
              </>
            )}
          </section>
          {viewing !== null && (
            <div className="sticky-panel stack">
              {!readOnly && (
                <button type="button" className="btn primary" disabled={busy} onClick={() => ask({ kind: 'ids', ids: [viewing.id] }, `message ${viewing.position ?? viewing.id}`, 1, 'this message')}>
                  <Icon name="redo" size={14} /> Redrive this message
                </button>
              )}
              <MessageViewer message={viewing} connectionId={connection.id} readOnly={readOnly} onClose={() => setViewing(null)} />
            </div>
          )}
        </div>
      </PeekGuard>

      {recent.length > 0 && (
        <section className="card flush" aria-label="Recent redrives">
          <div className="card-header"><h2>Recent redrives of {dlq}</h2></div>
          <table className="table">
            <thead><tr><th>Started</th><th>Selection</th><th>Target</th><th>Status</th><th className="num">Moved</th><th className="num">Failed</th><th className="num">Possibly duplicated</th><th /></tr></thead>
            <tbody>
              {recent.map((t) => (
                <tr key={t.id}>
                  <td className="mono">{t.startedAt.replace('T', ' ').slice(0, 19)}</td>
                  <td className="truncate">{selectionLabel(t)}</td>
                  <td className="mono">{t.target ?? 'origin'}</td>
                  <td><span className={`badge ${t.status === 'completed' ? 'ok' : t.status === 'running' ? 'info' : t.status === 'cancelled' ? 'warn' : 'danger'}`}>{t.status}</span></td>
                  <td className="num">{formatCount(t.progress.moved)}</td>
                  <td className="num">{formatCount(t.progress.failed)}</td>
                  <td className="num">{formatCount(t.progress.possiblyDuplicated)}</td>
                  <td className="num"><button type="button" className="btn sm ghost" onClick={() => setActiveTask(t)}>Report</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      {pending !== null && (
        <RedriveConfirmDialog
          pending={pending}
          dlq={dlq}
          targetLabel={targetLabel}
          capabilities={caps}
          rateText={rateText}
          onRateText={setRateText}
          onDryRun={(dryRun) => setPending((p) => (p === null ? p : { ...p, dryRun }))}
          busy={start.isPending}
          onCancel={() => setPending(null)}
          onStart={(ratePerSecond) => start.mutate({ connectionId: connection.id, source: dlq, target: target === '' ? null : target, selection: pending.selection, ratePerSecond, dryRun: pending.dryRun })}
        />
      )}
      {filterDialog && <RedriveFilterDialog capabilities={caps} dlq={dlq} onCancel={() => setFilterDialog(false)} onNext={(e) => void askFilter(e)} initial={filter} />}
      {purging && (
        <TypedConfirmDialog
          title={`Purge ${dlq}?`}
          expected={dlq}
          confirmLabel={`Delete ${depth === null ? 'all' : formatCount(depth)} messages`}
          onCancel={() => setPurging(false)}
          onConfirm={() => purge.mutate({ connectionId: connection.id, name: dlq })}
          busy={purge.isPending}
        >
          <Alert tone="danger" title="This cannot be undone">
            Every message in <code>{dlq}</code> ({depth === null ? 'unknown count' : formatCount(depth)}) is deleted for good. Export or redrive what you still need first.
          </Alert>
        </TypedConfirmDialog>
      )}
    </>
  );
}
