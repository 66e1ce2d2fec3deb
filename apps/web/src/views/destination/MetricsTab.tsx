import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTRPC } from '../../api/trpc';
import type { Connection } from '../../api/types';
import { LineChart, type Point } from '../../components/Charts';
import { EmptyState, ErrorState, LoadingRows } from '../../components/States';
import { formatCount, formatDuration, formatRate, formatTimestamp } from '../../lib/format';

const HISTORY = 180;
type Key = 'publishRate' | 'deliverRate' | 'ackRate' | 'depth' | 'inFlight';

export function MetricsTab({ connection, destination }: { connection: Connection; destination: string }) {
  const trpc = useTRPC();
  const snapshot = useQuery(trpc.metrics.snapshot.queryOptions({ connectionId: connection.id }, { refetchInterval: 3_000 }));
  const history = useRef<Record<Key, Point[]>>({ publishRate: [], deliverRate: [], ackRate: [], depth: [], inFlight: [] });
  const [, force] = useState(0);
  const current = snapshot.data?.destinations.find((d) => d.destination === destination);

  useEffect(() => {
    if (current === undefined || snapshot.data === undefined) return;
    const t = Date.parse(snapshot.data.at) || Date.now();
    for (const key of Object.keys(history.current) as Key[]) {
      const v = current[key];
      const points = history.current[key];
      if (v === null || points[points.length - 1]?.t === t) continue;
      points.push({ t, v });
      if (points.length > HISTORY) points.shift();
    }
    force((n) => n + 1);
  }, [current, snapshot.data]);

  if (snapshot.isPending) return <div className="card"><LoadingRows label="Loading metrics" /></div>;
  if (snapshot.isError) return <div className="card"><ErrorState error={snapshot.error} onRetry={() => void snapshot.refetch()} /></div>;
  if (current === undefined) {
    return (
      <div className="card">
        <EmptyState title="No metrics for this destination">
          The broker's last metrics snapshot ({formatTimestamp(snapshot.data.at)}) has no entry for <span className="mono">{destination}</span>. Mailroom asks again every 3 s; charts start when it reports one.
        </EmptyState>
      </div>
    );
  }
  const h = history.current;
  return (
    <div className="stack">
      <div className="card">
        <div className="card-body stats">
          <Stat label="In rate" value={formatRate(current.publishRate)} />
          <Stat label="Out rate" value={formatRate(current.deliverRate)} />
          <Stat label="Ack rate" value={formatRate(current.ackRate)} />
          <Stat label="Depth" value={formatCount(current.depth)} />
          <Stat label="In flight" value={formatCount(current.inFlight)} />
          <Stat label="Delayed" value={formatCount(current.delayed)} />
          <Stat label="Oldest message" value={formatDuration(current.oldestAgeMs)} />
        </div>
      </div>
      <div className="grid cols-2">
        <section className="card">
          <div className="card-header"><h2>Rates</h2><span className="muted small">messages per second, sampled every 3 s while this tab is open</span></div>
          <div className="card-body">
            <LineChart
              label="Publish, deliver and ack rates"
              format={formatRate}
              series={[
                { name: 'in', color: 'var(--chart-1)', points: h.publishRate },
                { name: 'out', color: 'var(--chart-2)', points: h.deliverRate },
                { name: 'ack', color: 'var(--chart-4)', points: h.ackRate },
              ]}
            />
          </div>
        </section>
        <section className="card">
          <div className="card-header"><h2>Depth</h2></div>
          <div className="card-body">
            <LineChart
              label="Depth and in-flight over time"
              series={[
                { name: 'depth', color: 'var(--chart-1)', points: h.depth },
                { name: 'in flight', color: 'var(--chart-3)', points: h.inFlight },
              ]}
            />
          </div>
        </section>
      </div>
    </div>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="stat">
      <div className="label">{label}</div>
      <div className="value">{value}</div>
    </div>
  );
}
