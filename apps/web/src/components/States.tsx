import type { ReactNode } from 'react';
import { describeError } from '../api/errors';
import { Icon } from './Icon';

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span className="spinner" role="status" aria-label={label} />;
}

/** Placeholder rows while a table loads, so the layout does not jump. */
export function LoadingRows({ rows = 6, label = 'Loading' }: { rows?: number; label?: string }) {
  return (
    <div role="status" aria-label={label} aria-busy="true" style={{ padding: '10px 14px' }}>
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="skeleton" style={{ margin: '10px 0', width: `${92 - ((i * 17) % 35)}%` }} />
      ))}
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="state" data-state="empty">
      <div className="state-title">{title}</div>
      {children !== undefined && <div className="muted">{children}</div>}
      {action !== undefined && <div style={{ marginTop: 12 }}>{action}</div>}
    </div>
  );
}

export function Alert({ tone, title, children, action }: { tone: 'warn' | 'danger' | 'info'; title: ReactNode; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className={`alert ${tone}`} role={tone === 'danger' ? 'alert' : 'note'}>
      <Icon name={tone === 'danger' ? 'error' : tone === 'warn' ? 'warn' : 'info'} />
      <div className="grow">
        <div className="alert-title">{title}</div>
        {children !== undefined && <div>{children}</div>}
      </div>
      {action}
    </div>
  );
}

/** A failed query: says whether the broker, the server or the request is at fault. */
export function ErrorState({ error, onRetry, compact = false }: { error: unknown; onRetry?: () => void; compact?: boolean }) {
  const info = describeError(error);
  const retry = onRetry === undefined ? undefined : (
    <button type="button" className="btn sm" onClick={onRetry}>
      <Icon name="refresh" size={14} /> Retry
    </button>
  );
  const body = (
    <Alert tone="danger" title={info.title} action={retry}>
      <div>{info.message}</div>
      {info.hint !== null && <div className="muted small">{info.hint}</div>}
    </Alert>
  );
  return (
    <div data-state={info.brokerDown ? 'broker-down' : info.serverDown ? 'server-down' : 'error'} style={compact ? undefined : { padding: 14 }}>
      {body}
    </div>
  );
}

export function ReadOnlyNote({ what }: { what: string }) {
  return (
    <Alert tone="info" title="Read-only connection">
      {what} is disabled because this connection is configured read-only.
    </Alert>
  );
}
