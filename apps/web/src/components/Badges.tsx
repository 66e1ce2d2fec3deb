import type { ConnectionHealth } from '../api/types';
import { formatAgo } from '../lib/format';

export function HealthBadge({ health }: { health: ConnectionHealth }) {
  const tone = health.status === 'up' ? 'ok' : health.status === 'down' ? 'danger' : 'warn';
  const label = health.status === 'up' ? 'Healthy' : health.status === 'down' ? 'Down' : 'Connecting';
  const title = [health.reason, health.version, `checked ${formatAgo(health.checkedAt)}`].filter(Boolean).join(' · ');
  return (
    <span className={`badge ${tone}`} title={title} data-health={health.status}>
      <span className={`dot ${health.status}`} aria-hidden="true" />
      {label}
    </span>
  );
}

export function KindBadge({ kind }: { kind: string }) {
  return <span className="badge">{kind}</span>;
}

export function DlqBadge({ title }: { title?: string }) {
  return (
    <span className="badge danger" title={title}>
      DLQ
    </span>
  );
}
