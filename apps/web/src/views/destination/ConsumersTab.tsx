import { capabilitiesOf } from '../../api/capabilities';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useTRPC } from '../../api/trpc';
import type { Connection, ConsumerGroup } from '../../api/types';
import { BarList, LineChart, type Series } from '../../components/Charts';
import { EmptyState, ErrorState, LoadingRows, ReadOnlyNote } from '../../components/States';
import { formatCount, formatDuration } from '../../lib/format';
import { PendingEntries } from './PendingEntries';
import { ResetOffsetsButton } from './ResetOffsets';

const HISTORY = 120;
const COLORS = ['var(--chart-1)', 'var(--chart-2)', 'var(--chart-3)', 'var(--chart-4)'];

export function ConsumersTab({ connection, destination }: { connection: Connection; destination: string }) {
  const trpc = useTRPC();
  const caps = capabilitiesOf(connection);
  const groups = useQuery(trpc.groups.list.queryOptions({ connectionId: connection.id, destination }, { refetchInterval: 5_000 }));
  const [selected, setSelected] = useState<string | null>(null);
  const history = useRef(new Map<string, { t: number; v: number }[]>());
  const [, force] = useState(0);

  useEffect(() => {
    if (groups.data === undefined) return;
    const now = groups.dataUpdatedAt || Date.now();
    for (const g of groups.data) {
      if (g.lag === null) continue;
      const points = history.current.get(g.name) ?? [];
      if (points[points.length - 1]?.t !== now) points.push({ t: now, v: g.lag });
      if (points.length > HISTORY) points.shift();
      history.current.set(g.name, points);
    }
    force((n) => n + 1);
  }, [groups.data, groups.dataUpdatedAt]);

  if (!caps.consumerGroups) {
    return (
      <div className="card">
        <EmptyState title="No consumer groups on this broker">
          This broker does not expose named consumer groups. Consumers attached now: see the Consumers figure above; in-flight messages show delivered but unacknowledged work.
        </EmptyState>
      </div>
    );
  }
  if (groups.isPending) return <div className="card"><LoadingRows label="Loading consumer groups" /></div>;
  if (groups.isError) return <div className="card"><ErrorState error={groups.error} onRetry={() => void groups.refetch()} /></div>;
  if (groups.data.length === 0) {
    return <div className="card"><EmptyState title="No consumer groups read this destination">Nothing has consumed from {destination} with a consumer group yet, so there is no lag to show.</EmptyState></div>;
  }
  const active = groups.data.find((g) => g.name === selected)?.name ?? groups.data[0]!.name;
  const activeGroup = groups.data.find((g) => g.name === active)!;
  const series: Series[] = groups.data.slice(0, 4).map((g, i) => ({ name: g.name, color: COLORS[i]!, points: history.current.get(g.name) ?? [] }));
  return (
    <div className="stack">
      {connection.readOnly && (caps.resetOffsets || caps.pendingEntries) && <ReadOnlyNote what={caps.pendingEntries ? 'Resetting offsets and acknowledging or claiming pending entries' : 'Resetting offsets'} />}
      <section className="card flush">
        <div className="card-header"><h2>Consumer groups</h2><span className="muted small">refreshes every 5 s</span></div>
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr><th>Group</th><th>State</th><th className="num">Members</th><th className="num">Lag</th><th className="num">Pending</th></tr>
            </thead>
            <tbody>
              {groups.data.map((g: ConsumerGroup) => (
                <tr key={g.name} aria-selected={g.name === active} style={g.name === active ? { background: 'var(--row-selected)' } : undefined}>
                  <td><button type="button" className="link-btn mono" onClick={() => setSelected(g.name)}>{g.name}</button></td>
                  <td><span className={`badge ${/stable|active|up/i.test(g.state) ? 'ok' : /empty|idle/i.test(g.state) ? '' : 'warn'}`}>{g.state}</span></td>
                  <td className="num">{formatCount(g.members)}</td>
                  <td className="num" style={(g.lag ?? 0) > 0 ? { color: 'var(--warn)', fontWeight: 600 } : undefined}>{formatCount(g.lag)}</td>
                  <td className="num">{formatCount(g.pending)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <div className="grid cols-2">
        <section className="card">
          <div className="card-header"><h2>Lag over time</h2></div>
          <div className="card-body"><LineChart series={series} label="Consumer lag over time" /></div>
        </section>
        <GroupDetail
          connectionId={connection.id}
          destination={destination}
          group={active}
          actions={caps.resetOffsets ? <ResetOffsetsButton connection={connection} destination={destination} group={activeGroup} /> : undefined}
        />
      </div>
      {caps.pendingEntries && <PendingEntries key={active} connection={connection} destination={destination} group={active} />}
    </div>
  );
}

function GroupDetail({ connectionId, destination, group, actions }: { connectionId: string; destination: string; group: string; actions?: ReactNode }) {
  const trpc = useTRPC();
  const detail = useQuery(trpc.groups.describe.queryOptions({ connectionId, name: group, destination }, { refetchInterval: 5_000 }));
  return (
    <section className="card">
      <div className="card-header"><h2 className="grow">Lag per partition · <span className="mono">{group}</span></h2>{actions}</div>
      <div className="card-body stack">
        {detail.isPending ? <LoadingRows rows={3} /> : detail.isError ? <ErrorState error={detail.error} compact /> : (
          <>
            <BarList label={`Lag per partition for ${group}`} rows={detail.data.partitions.filter((p) => p.destination === destination || detail.data.partitions.every((x) => x.destination !== destination)).map((p) => ({ name: p.partition === null ? p.destination : `${p.destination}[${p.partition}]`, value: p.lag }))} />
            <table className="table">
              <thead><tr><th>Partition</th><th className="num">Committed</th><th className="num">End</th><th className="num">Lag</th></tr></thead>
              <tbody>
                {detail.data.partitions.map((p) => (
                  <tr key={`${p.destination}:${p.partition}`}>
                    <td className="mono">{p.partition ?? '—'}</td>
                    <td className="num mono">{p.committed ?? <span className="muted">none</span>}</td>
                    <td className="num mono">{p.end ?? '—'}</td>
                    <td className="num">{formatCount(p.lag)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {detail.data.membersDetail.length > 0 && (
              <table className="table">
                <thead><tr><th>Member</th><th>Host</th><th className="num">Pending</th><th className="num">Idle</th></tr></thead>
                <tbody>
                  {detail.data.membersDetail.map((m) => (
                    <tr key={m.id}><td className="mono truncate">{m.id}</td><td className="mono">{m.host ?? '—'}</td><td className="num">{formatCount(m.pending)}</td><td className="num">{formatDuration(m.idleMs)}</td></tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </div>
    </section>
  );
}
