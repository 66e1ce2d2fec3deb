import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState } from 'react';
import { useTRPC } from '../../api/trpc';
import type { Connection } from '../../api/types';
import { ActionError } from '../../components/ActionError';
import { ConfirmDialog } from '../../components/Dialog';
import { Icon } from '../../components/Icon';
import { EmptyState, ErrorState, LoadingRows } from '../../components/States';
import { useToast } from '../../components/Toasts';
import { formatCount, formatDuration, plural } from '../../lib/format';
import { writeBlocked } from '../../lib/write-access';

const LIMIT = 100;

/**
 * Delivered but unacknowledged entries of one group: who holds them, for how long, how often
 * they were delivered; select some to acknowledge them or hand them to another consumer.
 */
export function PendingEntries({ connection, destination, group }: { connection: Connection; destination: string; group: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const notify = useToast();
  const input = { connectionId: connection.id, destination, group, limit: LIMIT };
  const list = useQuery(trpc.pending.list.queryOptions(input, { refetchInterval: 5_000 }));
  // The same query as the group's lag card: its members are the usual claim targets.
  const detail = useQuery(trpc.groups.describe.queryOptions({ connectionId: connection.id, name: group, destination }, { refetchInterval: 5_000 }));
  const members = useMemo(() => detail.data?.membersDetail.map((m) => m.id) ?? [], [detail.data]);
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [dialog, setDialog] = useState<'ack' | 'claim' | null>(null);
  const [consumer, setConsumer] = useState('');
  const blocked = writeBlocked(connection, 'acknowledging and claiming pending entries');
  const consumerId = useId();

  const entries = useMemo(() => list.data ?? [], [list.data]);
  // Entries acked or claimed elsewhere drop out of the selection when the list refreshes.
  const selected = useMemo(() => entries.filter((e) => checked.has(e.id)).map((e) => e.id), [entries, checked]);
  const knownConsumers = useMemo(() => [...new Set([...members, ...entries.map((e) => e.consumer)])].sort(), [members, entries]);
  const allChecked = entries.length > 0 && selected.length === entries.length;

  const refresh = () => {
    void queryClient.invalidateQueries(trpc.pending.pathFilter());
    void queryClient.invalidateQueries(trpc.groups.pathFilter());
    void queryClient.invalidateQueries(trpc.destinations.describe.pathFilter());
  };
  const done = () => {
    setChecked(new Set());
    setDialog(null);
    refresh();
  };
  const ack = useMutation(
    trpc.pending.ack.mutationOptions({
      onSuccess: ({ acked }, vars) => {
        const missed = vars.ids.length - acked;
        notify(`Acknowledged ${plural(acked, 'entry', 'entries')} of ${group}${missed > 0 ? ` (${formatCount(missed)} no longer pending)` : ''}`);
        done();
      },
    }),
  );
  const claim = useMutation(
    trpc.pending.claim.mutationOptions({
      onSuccess: ({ claimed }, vars) => {
        const missed = vars.ids.length - claimed;
        notify(`Claimed ${plural(claimed, 'entry', 'entries')} for ${vars.consumer}${missed > 0 ? ` (${formatCount(missed)} no longer pending)` : ''}`);
        done();
      },
    }),
  );

  const toggle = (id: string) =>
    setChecked((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const open = (which: 'ack' | 'claim') => {
    ack.reset();
    claim.reset();
    setDialog(which);
  };
  const count = plural(selected.length, 'entry', 'entries');

  return (
    <section className="card flush" aria-label={`Pending entries of ${group}`}>
      <div className="card-header">
        <h2 className="grow">Pending entries · <span className="mono">{group}</span></h2>
        <span className="muted small">delivered, not acknowledged · refreshes every 5 s</span>
      </div>
      {list.isPending ? <LoadingRows rows={3} label="Loading pending entries" /> : list.isError ? <ErrorState error={list.error} onRetry={() => void list.refetch()} /> : entries.length === 0 ? (
        <EmptyState title="No pending entries">Every message delivered to {group} was acknowledged.</EmptyState>
      ) : (
        <>
          <div className="toolbar">
            {blocked === null ? (
              <>
                <span className="small"><strong className="num">{formatCount(selected.length)}</strong> of {formatCount(entries.length)}{entries.length === LIMIT ? ' (the oldest 100)' : ''} selected</span>
                <span className="spacer" />
                <button type="button" className="btn sm" disabled={selected.length === 0} onClick={() => open('claim')} title={selected.length === 0 ? 'Select entries first' : undefined}>
                  Claim…
                </button>
                <button type="button" className="btn sm danger-outline" disabled={selected.length === 0} onClick={() => open('ack')} title={selected.length === 0 ? 'Select entries first' : undefined}>
                  <Icon name="check" size={14} /> Acknowledge…
                </button>
              </>
            ) : (
              <span className="muted small"><Icon name="lock" size={12} /> {formatCount(entries.length)}{entries.length === LIMIT ? ' (the oldest 100)' : ''} · {blocked}</span>
            )}
          </div>
          <div className="table-wrap" style={{ maxHeight: 360 }}>
            <table className="table">
              <thead>
                <tr>
                  {blocked === null && (
                    <th style={{ width: 32 }}>
                      <input type="checkbox" aria-label="Select all pending entries" checked={allChecked} onChange={() => setChecked(allChecked ? new Set() : new Set(entries.map((e) => e.id)))} />
                    </th>
                  )}
                  <th>Entry</th><th>Consumer</th><th className="num">Idle</th><th className="num">Deliveries</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id} aria-selected={checked.has(e.id)} style={checked.has(e.id) ? { background: 'var(--row-selected)' } : undefined}>
                    {blocked === null && <td><input type="checkbox" aria-label={`Select entry ${e.id}`} checked={checked.has(e.id)} onChange={() => toggle(e.id)} /></td>}
                    <td className="mono">{e.id}</td>
                    <td className="mono truncate" title={e.consumer}>{e.consumer}</td>
                    <td className="num">{formatDuration(e.idleMs)}</td>
                    <td className="num" style={e.deliveryCount > 1 ? { color: 'var(--warn)', fontWeight: 600 } : undefined}>{formatCount(e.deliveryCount)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}

      {dialog === 'ack' && (
        <ConfirmDialog
          title={`Acknowledge ${count}?`}
          tone="danger"
          confirmLabel={ack.isPending ? 'Acknowledging…' : `Acknowledge ${count}`}
          busy={ack.isPending}
          onCancel={() => setDialog(null)}
          onConfirm={() => ack.mutate({ connectionId: connection.id, destination, group, ids: selected })}
        >
          <div>
            The selected entries of <span className="mono">{group}</span> on <span className="mono">{destination}</span> are marked as processed: they leave the pending list and are
            <strong> never delivered to this group again</strong>, whether or not a consumer handled them.
          </div>
          <div className="muted small mono" style={{ wordBreak: 'break-all' }}>{selected.slice(0, 10).join(', ')}{selected.length > 10 ? ` and ${formatCount(selected.length - 10)} more` : ''}</div>
          {ack.isError && <ActionError error={ack.error} titles={{ FORBIDDEN: 'Not allowed' }} />}
        </ConfirmDialog>
      )}
      {dialog === 'claim' && (
        <ConfirmDialog
          title={`Claim ${count}`}
          confirmLabel={claim.isPending ? 'Claiming…' : consumer.trim() === '' ? 'Claim' : `Claim for ${consumer.trim()}`}
          busy={claim.isPending || consumer.trim() === ''}
          onCancel={() => setDialog(null)}
          onConfirm={() => claim.mutate({ connectionId: connection.id, destination, group, consumer: consumer.trim(), ids: selected })}
        >
          <div>
            The selected entries of <span className="mono">{group}</span> move to another consumer, which then owns them and must acknowledge them. Their idle time starts again.
          </div>
          <div className="field">
            <label htmlFor={consumerId}>Consumer</label>
            <input
              id={consumerId}
              className="input mono"
              list={`${consumerId}-known`}
              value={consumer}
              onChange={(e) => setConsumer(e.target.value)}
              onKeyDown={(e) => e.key === 'Enter' && consumer.trim() !== '' && !claim.isPending && claim.mutate({ connectionId: connection.id, destination, group, consumer: consumer.trim(), ids: selected })}
              autoComplete="off"
              spellCheck={false}
              data-autofocus
              maxLength={200}
            />
            <datalist id={`${consumerId}-known`}>{knownConsumers.map((c) => <option key={c} value={c} />)}</datalist>
            <span className="help">{knownConsumers.length > 0 ? `Known: ${knownConsumers.slice(0, 5).join(', ')}${knownConsumers.length > 5 ? '…' : ''}` : 'The consumer name as the group knows it.'}</span>
          </div>
          {claim.isError && <ActionError error={claim.error} titles={{ FORBIDDEN: 'Not allowed' }} />}
        </ConfirmDialog>
      )}
    </section>
  );
}
