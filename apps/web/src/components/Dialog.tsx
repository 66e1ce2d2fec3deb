import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { createPortal } from 'react-dom';

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Modal dialog: focus moves in, Tab stays in, Escape closes, focus returns where it was. */
export function Dialog({ title, tone, onClose, children, footer }: { title: string; tone?: 'danger'; onClose: () => void; children: ReactNode; footer: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const node = ref.current;
    const first = node?.querySelector<HTMLElement>('[data-autofocus]') ?? node?.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
    return () => previous?.focus?.();
  }, []);
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== 'Tab' || ref.current === null) return;
    const items = Array.from(ref.current.querySelectorAll<HTMLElement>(FOCUSABLE));
    const first = items[0];
    const last = items[items.length - 1];
    if (first === undefined || last === undefined) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };
  return createPortal(
    <div className="backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={ref} className={`dialog ${tone ?? ''}`} role="dialog" aria-modal="true" aria-labelledby={titleId} onKeyDown={onKeyDown}>
        <div className="dialog-header">
          <h2 id={titleId}>{title}</h2>
        </div>
        <div className="dialog-body">{children}</div>
        <div className="dialog-footer">{footer}</div>
      </div>
    </div>,
    document.body,
  );
}

export function ConfirmDialog({
  title, children, confirmLabel, tone, onConfirm, onCancel, busy = false,
}: { title: string; children: ReactNode; confirmLabel: string; tone?: 'danger'; onConfirm: () => void; onCancel: () => void; busy?: boolean }) {
  return (
    <Dialog
      title={title}
      tone={tone}
      onClose={onCancel}
      footer={
        <>
          <button type="button" className="btn" onClick={onCancel} data-autofocus>
            Cancel
          </button>
          <button type="button" className={`btn ${tone === 'danger' ? 'danger' : 'primary'}`} onClick={onConfirm} disabled={busy}>
            {confirmLabel}
          </button>
        </>
      }
    >
      {children}
    </Dialog>
  );
}

/** For irreversible actions: the operator types the destination name to enable the button. */
export function TypedConfirmDialog({
  title, children, expected, confirmLabel, onConfirm, onCancel, busy = false,
}: { title: string; children: ReactNode; expected: string; confirmLabel: string; onConfirm: () => void; onCancel: () => void; busy?: boolean }) {
  const [typed, setTyped] = useState('');
  const inputId = useId();
  const matches = typed === expected;
  return (
    <Dialog
      title={title}
      tone="danger"
      onClose={onCancel}
      footer={
        <>
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="btn danger" onClick={onConfirm} disabled={!matches || busy}>
            {confirmLabel}
          </button>
        </>
      }
    >
      {children}
      <div className="field">
        <label htmlFor={inputId}>
          Type <code>{expected}</code> to confirm
        </label>
        <input
          id={inputId}
          className="input mono"
          value={typed}
          autoComplete="off"
          spellCheck={false}
          data-autofocus
          onChange={(e) => setTyped(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && matches && !busy && onConfirm()}
        />
      </div>
    </Dialog>
  );
}
