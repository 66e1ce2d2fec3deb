import { capabilitiesOf } from '../../api/capabilities';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTRPC } from '../../api/trpc';
import type { Connection, DestinationDetail, WireMessage } from '../../api/types';
import { ExportButtons } from '../../components/ExportMenu';
import { FilterInput } from '../../components/FilterInput';
import { Icon } from '../../components/Icon';
import { MessageTable, messageKey } from '../../components/MessageTable';
import { MessageViewer } from '../../components/MessageViewer';
import { PeekGuard } from '../../components/PeekGuard';
import { Alert, EmptyState, ErrorState } from '../../components/States';
import { formatCount, formatRate } from '../../lib/format';
import { useHotkey } from '../../lib/hotkeys';
import { TailBuffer } from '../../lib/tail-buffer';

export const TAIL_CAPACITY = 5_000;
const RENDER_EVERY_MS = 250;

/** Tail events arrive wrapped by tRPC's tracked() as { id, data }; tolerate both forms. */
export function unwrapTailEvent(event: unknown): { kind: string; messages: WireMessage[]; skipped: number; gap: boolean; notice: string | null } {
  const outer = (event ?? {}) as { data?: unknown };
  const wrapped = typeof outer.data === 'object' && outer.data !== null && ('messages' in outer.data || 'kind' in outer.data);
  const e = (wrapped ? outer.data : outer) as Partial<{ kind: string; messages: WireMessage[]; skipped: number; gap: boolean; notice: string | null }>;
  return {
    kind: typeof e.kind === 'string' ? e.kind : 'batch',
    messages: Array.isArray(e.messages) ? e.messages : [],
    skipped: typeof e.skipped === 'number' ? e.skipped : 0,
    gap: e.gap === true,
    notice: typeof e.notice === 'string' ? e.notice : null,
  };
}

export function TailTab({ connection, destination, detail }: { connection: Connection; destination: string; detail: DestinationDetail | undefined }) {
  const caps = capabilitiesOf(connection);
  const trpc = useTRPC();
  const [confirmed, setConfirmed] = useState(false);
  const [paused, setPaused] = useState(false);
  const [filter, setFilter] = useState('');
  const [partition, setPartition] = useState<number | null>(null);
  const [selected, setSelected] = useState<WireMessage | null>(null);
  const buffer = useRef(new TailBuffer(TAIL_CAPACITY));
  const [shown, setShown] = useState<WireMessage[]>([]);
  const [stats, setStats] = useState({ received: 0, skipped: 0, rate: 0, pendingWhilePaused: 0 });
  const receivedAtPause = useRef(0);
  const dirty = useRef(false);
  const [notice, setNotice] = useState<string | null>(null);

  const allowed = confirmed || !caps.peekIsDestructive;
  const input = {
    connectionId: connection.id,
    destination,
    ...(caps.partitions && partition !== null ? { partition } : {}),
    ...(filter !== '' ? { filter } : {}),
    ...(caps.peekIsDestructive ? { force: true } : {}),
  };
  // The server sends 'open' once the broker-side reader is positioned; only then is the tail live.
  // Remembered per input: a reconnect that resumes the session gets no second 'open' (its reader stays positioned).
  const inputKey = JSON.stringify(input);
  const [openedFor, setOpenedFor] = useState<string | null>(null);
  const sub = useSubscription(
    trpc.messages.tail.subscriptionOptions(
      input,
      {
        enabled: allowed,
        onData: (event) => {
          const { kind, messages, skipped, gap, notice: text } = unwrapTailEvent(event);
          if (kind === 'open') setOpenedFor(inputKey);
          if (messages.length > 0 || skipped > 0) buffer.current.push(messages, skipped);
          if (gap || text !== null) setNotice(text ?? 'The tail was interrupted; messages sent in between may be missing.');
          if (kind === 'end') setNotice('The broker ended this tail (the destination may have been deleted).');
          dirty.current = true;
        },
      },
    ),
  );

  // Re-render at most four times a second however fast messages arrive.
  useEffect(() => {
    const timer = setInterval(() => {
      const b = buffer.current;
      const rate = b.rate();
      if (!dirty.current && rate === stats.rate) return;
      dirty.current = false;
      if (!paused) setShown(b.newestFirst());
      setStats({ received: b.received, skipped: b.skippedTotal, rate, pendingWhilePaused: paused ? b.received - receivedAtPause.current : 0 });
    }, RENDER_EVERY_MS);
    return () => clearInterval(timer);
  }, [paused, stats.rate]);

  const pause = () => {
    receivedAtPause.current = buffer.current.received;
    setPaused(true);
  };
  const resume = () => {
    setPaused(false);
    setShown(buffer.current.newestFirst());
    setStats((s) => ({ ...s, pendingWhilePaused: 0 }));
  };
  const clear = () => {
    buffer.current.clear();
    receivedAtPause.current = 0;
    setShown([]);
    setSelected(null);
    setStats({ received: 0, skipped: 0, rate: 0, pendingWhilePaused: 0 });
  };
  const restart = (f: () => void) => {
    clear();
    f();
  };
  useHotkey(' ', (e) => {
    e.preventDefault();
    if (paused) resume();
    else pause();
  }, allowed);
  useHotkey('Escape', () => setSelected(null), selected !== null);

  const partitions = detail?.partitionDetails.map((p) => p.partition) ?? [];
  // An error or a stop ends the server session: the next subscription starts a new reader and sends 'open' again.
  useEffect(() => {
    if (sub.status === 'error' || sub.status === 'idle') setOpenedFor(null);
  }, [sub.status]);
  const ready = sub.status === 'pending' && openedFor === inputKey;
  const statusLabel = sub.status === 'error' ? 'Disconnected' : sub.status === 'connecting' || (sub.status === 'pending' && !ready) ? 'Connecting…' : paused ? 'Paused' : ready ? 'Live' : 'Stopped';
  const selectedKey = useMemo(() => (selected === null ? null : messageKey(selected)), [selected]);

  return (
    <PeekGuard capabilities={caps} action="Start the live tail" confirmed={confirmed} onConfirm={() => setConfirmed(true)}>
      <div className={selected ? 'split' : undefined}>
        <section className="card flush" aria-label="Live tail" data-tail-ready={ready ? 'true' : 'false'}>
          <div className="toolbar">
            {paused ? (
              <button type="button" className="btn sm primary" onClick={resume} title="Resume (space)">
                <Icon name="play" size={14} /> Resume{stats.pendingWhilePaused > 0 && ` (+${formatCount(stats.pendingWhilePaused)})`}
              </button>
            ) : (
              <button type="button" className="btn sm" onClick={pause} title="Pause (space)">
                <Icon name="pause" size={14} /> Pause
              </button>
            )}
            <button type="button" className="btn sm" onClick={clear}>
              <Icon name="trash" size={14} /> Clear
            </button>
            {caps.partitions && (
              <select className="input" style={{ height: 24 }} aria-label="Partition" value={partition ?? ''} onChange={(e) => restart(() => setPartition(e.target.value === '' ? null : Number(e.target.value)))}>
                <option value="">All partitions</option>
                {partitions.map((p) => <option key={p} value={p}>Partition {p}</option>)}
              </select>
            )}
            <div className="sep" />
            <FilterInput value={filter} onApply={(f) => restart(() => setFilter(f))} width={260} />
            <span className="spacer" />
            <span className={`badge ${sub.status === 'error' ? 'danger' : paused ? 'warn' : ready ? 'ok' : ''}`} role="status" aria-label={`Tail status: ${statusLabel}`}>
              {ready && !paused && <span className="dot up" aria-hidden="true" />} {statusLabel}
            </span>
            <ExportButtons messages={shown} destination={destination} />
          </div>
          <div className="toolbar small" aria-live="off">
            <span><strong className="num">{formatCount(stats.received)}</strong> received</span>
            <span className="muted">·</span>
            <span><strong className="num">{formatCount(shown.length)}</strong> shown (newest first, buffer {formatCount(TAIL_CAPACITY)})</span>
            <span className="muted">·</span>
            <span title="Messages that arrived but are not in the list: the server skipped them because this view fell behind, or the buffer dropped the oldest">
              <strong className="num" style={stats.skipped > 0 ? { color: 'var(--warn)' } : undefined} data-testid="tail-skipped">{formatCount(stats.skipped)}</strong> skipped
            </span>
            <span className="muted">·</span>
            <span>{formatRate(stats.rate)}</span>
          </div>
          {notice !== null && (
            <div style={{ padding: '8px 10px 0' }}>
              <Alert tone="warn" title="Tail notice" action={<button type="button" className="btn sm ghost" onClick={() => setNotice(null)}>Dismiss</button>}>{notice}</Alert>
            </div>
          )}
          {sub.status === 'error' && <ErrorState error={sub.error} onRetry={() => sub.reset()} />}
          {shown.length === 0 && sub.status !== 'error' ? (
            <EmptyState title={paused ? 'Paused' : 'Waiting for messages…'}>
              {paused ? 'Resume to see what arrived.' : `New messages on ${destination} appear here as they arrive${filter ? ' (filtered)' : ''}.`}
            </EmptyState>
          ) : shown.length > 0 ? (
            <MessageTable
              label="Tailed messages"
              messages={shown}
              partitions={caps.partitions}
              selectedKey={selectedKey}
              onSelect={(m) => {
                setSelected(m);
                if (!paused) pause();
              }}
              height="calc(100vh - 380px)"
              showDeadLetter={detail?.isDeadLetter ?? false}
            />
          ) : null}
        </section>
        {selected !== null && (
          <div className="sticky-panel">
            <MessageViewer message={selected} connectionId={connection.id} readOnly={connection.readOnly} onClose={() => setSelected(null)} capabilities={caps} />
          </div>
        )}
      </div>
    </PeekGuard>
  );
}
