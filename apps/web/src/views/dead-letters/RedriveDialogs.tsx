import { useId, useState } from 'react';
import { describeError } from '../../api/errors';
import { useTRPCClient } from '../../api/trpc';
import type { Capabilities, RedriveSelection } from '../../api/types';
import { ConfirmDialog } from '../../components/Dialog';
import { DestructiveReadWarning } from '../../components/PeekGuard';
import { Alert } from '../../components/States';
import { formatCount } from '../../lib/format';

export interface PendingRedrive {
  selection: RedriveSelection;
  label: string;
  count: number | null;
  countNote: string;
  /** Count what would move and move nothing. */
  dryRun: boolean;
}

const MAX_RATE_PER_SECOND = 1_000_000;
const rateFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

/** The rate-limit field: empty means no limit, else a positive number of messages per second. */
export function parseRateLimit(text: string): { ok: true; value: number | null } | { ok: false; error: string } {
  const t = text.trim();
  if (t === '') return { ok: true, value: null };
  const n = Number(t);
  if (!/^\d*\.?\d+$/.test(t) || !Number.isFinite(n) || n <= 0) return { ok: false, error: 'Enter a number of messages per second above 0, or leave it empty for no limit' };
  if (n > MAX_RATE_PER_SECOND) return { ok: false, error: `At most ${formatCount(MAX_RATE_PER_SECOND)} messages per second` };
  return { ok: true, value: n };
}

export function RedriveConfirmDialog({
  pending, dlq, targetLabel, capabilities, rateText, onRateText, onDryRun, busy, onCancel, onStart,
}: {
  pending: PendingRedrive;
  dlq: string;
  targetLabel: string;
  capabilities: Capabilities;
  rateText: string;
  onRateText: (text: string) => void;
  onDryRun: (dryRun: boolean) => void;
  busy: boolean;
  onCancel: () => void;
  onStart: (ratePerSecond: number | null) => void;
}) {
  const ids = { dryRun: useId(), rate: useId() };
  const rate = parseRateLimit(rateText);
  const counting = pending.selection.kind === 'filter' && pending.count === null && pending.countNote.startsWith('Counting');
  const n = pending.count;
  const messages = n === null ? 'messages' : `${formatCount(n)} message${n === 1 ? '' : 's'}`;
  // On a destructive-read broker every message examined but not moved is read and put back.
  const readsWithoutMoving = capabilities.peekIsDestructive && (pending.dryRun || pending.selection.kind !== 'all');
  return (
    <ConfirmDialog
      title={pending.dryRun ? 'Dry run: count what would move?' : 'Redrive dead letters?'}
      confirmLabel={pending.dryRun ? 'Start dry run (move nothing)' : n === null ? 'Redrive' : `Redrive ${messages}`}
      onCancel={onCancel}
      onConfirm={() => {
        if (rate.ok) onStart(rate.value);
      }}
      busy={busy || counting || !rate.ok}
    >
      <dl className="kv">
        <dt>{pending.dryRun ? 'Selection' : 'Move'}</dt><dd>{pending.label}</dd>
        <dt>Count</dt><dd data-testid="redrive-count">{n === null ? '—' : formatCount(n)} <span className="muted">({pending.countNote})</span></dd>
        <dt>From</dt><dd>{dlq}</dd>
        <dt>To</dt><dd>{targetLabel}</dd>
      </dl>
      <fieldset className="redrive-options">
        <legend className="field-label">Options</legend>
        <label className="checkbox" htmlFor={ids.dryRun}>
          <input id={ids.dryRun} type="checkbox" checked={pending.dryRun} onChange={(e) => onDryRun(e.target.checked)} />
          Dry run (count only, move nothing)
        </label>
        <div className="field">
          <label htmlFor={ids.rate}>Rate limit (messages per second)</label>
          <input
            id={ids.rate}
            className="input"
            inputMode="decimal"
            autoComplete="off"
            style={{ maxWidth: 180 }}
            value={rateText}
            placeholder="no limit"
            onChange={(e) => onRateText(e.target.value)}
            aria-invalid={!rate.ok}
            aria-describedby={`${ids.rate}-note`}
          />
          {rate.ok
            ? <span id={`${ids.rate}-note`} className="help">{rate.value === null ? 'Empty: as fast as the broker allows.' : `At most ${rateFormat.format(rate.value)} message${rate.value === 1 ? '' : 's'} per second.`}</span>
            : <span id={`${ids.rate}-note`} className="error" role="alert">{rate.error}</span>}
        </div>
      </fieldset>
      {readsWithoutMoving && (
        <DestructiveReadWarning capabilities={capabilities}>
          {pending.dryRun ? <>A dry run reads every message in <code>{dlq}</code> and puts it back.</> : <>Every message in <code>{dlq}</code> is read; the ones not selected are put back.</>}
        </DestructiveReadWarning>
      )}
      {pending.dryRun ? (
        <Alert tone="info" title="Nothing will be moved">
          The dry run reports how many messages would move to {targetLabel}. Nothing is written to the target and nothing is removed from <code>{dlq}</code>.
        </Alert>
      ) : (
        <div className="muted small">Each message is written to the target before it is removed from the dead-letter queue. You can cancel while it runs; what already moved stays moved.</div>
      )}
    </ConfirmDialog>
  );
}

export function RedriveFilterDialog({ capabilities, dlq, initial, onCancel, onNext }: { capabilities: Capabilities; dlq: string; initial: string; onCancel: () => void; onNext: (expression: string) => void }) {
  const client = useTRPCClient();
  const [text, setText] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const next = async () => {
    const expression = text.trim();
    if (expression === '') return setError('Enter a filter expression');
    const result = await client.filters.validate.query({ expression }).catch((e: unknown) => ({ ok: false as const, error: describeError(e).message, position: null }));
    if (result.ok) onNext(expression);
    else setError(result.position === null ? result.error : `${result.error} (at ${result.position})`);
  };
  return (
    <ConfirmDialog title="Redrive messages matching a filter" confirmLabel={capabilities.peekIsDestructive ? 'Count matches anyway…' : 'Count matches…'} onCancel={onCancel} onConfirm={() => void next()}>
      <div className="field">
        <label htmlFor="redrive-filter">Filter expression</label>
        <input id="redrive-filter" className="input mono" value={text} onChange={(e) => setText(e.target.value)} aria-invalid={error !== null} placeholder={'reason contains "timeout" and attempts >= 3'} onKeyDown={(e) => e.key === 'Enter' && void next()} />
        {error !== null ? <span className="error" role="alert">{error}</span> : <span className="help">Fields: key, text, json.path, headers.name, reason, origin, attempts, timestamp…</span>}
      </div>
      <div className="muted small">Next, a dry run counts the matches; nothing moves until you confirm.</div>
      {capabilities.peekIsDestructive && (
        <DestructiveReadWarning capabilities={capabilities}>
          Counting the matches reads every message in <code>{dlq}</code> and puts it back, and so does the redrive.
        </DestructiveReadWarning>
      )}
    </ConfirmDialog>
  );
}
