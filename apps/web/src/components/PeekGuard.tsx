import type { ReactNode } from 'react';
import type { Capabilities } from '../api/types';
import { Icon } from './Icon';

/**
 * Where reading has side effects (requeue sets redelivered, receive raises the receive count),
 * nothing is read until the operator has seen the broker's warning and said yes.
 */
export function PeekGuard({ capabilities, action, confirmed, onConfirm, children }: { capabilities: Capabilities; action: string; confirmed: boolean; onConfirm: () => void; children: ReactNode }) {
  if (!capabilities.peekIsDestructive || confirmed) return <>{children}</>;
  return (
    <section className="card" data-state="peek-warning">
      <div className="card-body stack" style={{ maxWidth: 720 }}>
        <DestructiveReadWarning capabilities={capabilities} />
        <div className="row">
          <button type="button" className="btn danger-outline" onClick={onConfirm}>
            <Icon name="warn" size={14} /> {action} anyway
          </button>
          <span className="muted small">Nothing has been read yet.</span>
        </div>
      </div>
    </section>
  );
}

/** The broker's own words on what a read does to its messages; `children` adds what this action reads. */
export function DestructiveReadWarning({ capabilities, children }: { capabilities: Capabilities; children?: ReactNode }) {
  return (
    <div className="alert warn" role="note" data-state="destructive-read-warning">
      <Icon name="warn" />
      <div>
        <div className="alert-title">Reading these messages changes them on the broker</div>
        <div>{capabilities.peekWarning ?? 'On this broker a read is not side-effect free.'}</div>
        {children !== undefined && <div>{children}</div>}
      </div>
    </div>
  );
}

/** A small note that stays visible while a destructive read is active. */
export function DestructiveReadNote({ capabilities }: { capabilities: Capabilities }) {
  if (!capabilities.peekIsDestructive) return null;
  return (
    <span className="badge warn" title={capabilities.peekWarning ?? undefined}>
      <Icon name="warn" size={12} /> reads have side effects
    </span>
  );
}
