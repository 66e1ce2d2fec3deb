import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { capabilitiesOf } from '../../api/capabilities';
import { useTRPC } from '../../api/trpc';
import type { Connection, ConsumerGroup, RouterInputs } from '../../api/types';
import { ActionError } from '../../components/ActionError';
import { Dialog } from '../../components/Dialog';
import { Icon } from '../../components/Icon';
import { Alert } from '../../components/States';
import { useToast } from '../../components/Toasts';
import { formatTimestamp, plural } from '../../lib/format';
import { writeBlocked } from '../../lib/write-access';

type Target = RouterInputs['groups']['resetOffsets']['target'];
type Kind = Target['kind'];

/** `<input type="datetime-local">` wants local time without a zone. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "Reset offsets…" for one group, disabled with the reason where the connection allows no changes. */
export function ResetOffsetsButton({ connection, destination, group }: { connection: Connection; destination: string; group: ConsumerGroup }) {
  const [open, setOpen] = useState(false);
  const blocked = writeBlocked(connection, 'resetting offsets', 'admin');
  return (
    <>
      <button type="button" className="btn sm" onClick={() => setOpen(true)} disabled={blocked !== null} title={blocked ?? `Move the position of ${group.name} on ${destination}`}>
        <Icon name={blocked === null ? 'redo' : 'lock'} size={14} /> Reset offsets…
      </button>
      {open && <ResetOffsetsDialog connection={connection} destination={destination} group={group} onClose={() => setOpen(false)} />}
    </>
  );
}

const KINDS: { kind: Kind; label: string; help: string }[] = [
  { kind: 'earliest', label: 'Earliest', help: 'Read every stored message again.' },
  { kind: 'latest', label: 'Latest', help: 'Skip everything not read yet; only new messages.' },
  { kind: 'timestamp', label: 'A point in time', help: 'The first message at or after a time.' },
  { kind: 'offset', label: 'An exact offset', help: 'One partition, to a given offset.' },
];

export function ResetOffsetsDialog({ connection, destination, group, onClose }: { connection: Connection; destination: string; group: ConsumerGroup; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const notify = useToast();
  const caps = capabilitiesOf(connection);
  const detail = useQuery(trpc.destinations.describe.queryOptions({ connectionId: connection.id, name: destination }));
  const partitions = detail.data?.partitionDetails ?? [];
  const [kind, setKind] = useState<Kind>('earliest');
  const [time, setTime] = useState(() => toLocalInput(Date.now() - 3_600_000));
  const [partition, setPartition] = useState(0);
  const [offset, setOffset] = useState('');
  const [step, setStep] = useState<'form' | 'confirm'>('form');
  const [touched, setTouched] = useState(false);
  const formId = useId();
  const summary = useRef<HTMLDivElement>(null);
  const positionWord = caps.partitions ? 'offset' : 'position';

  const timeMs = Date.parse(time);
  const timeError = kind === 'timestamp' && Number.isNaN(timeMs) ? 'Enter a date and time.' : null;
  // Without partitions the position may be a stream entry id (<ms>-<seq>); the broker checks its own form.
  const offsetError =
    kind !== 'offset' ? null
    : caps.partitions ? (/^\d+$/.test(offset.trim()) ? null : 'Enter the offset as a whole number.')
    : /^\d+(-\d+)?$/.test(offset.trim()) ? null : 'Enter a position: a number, or an entry id such as 1700000000000-0.';
  const invalid = timeError !== null || offsetError !== null;

  const target: Target | null =
    invalid ? null
    : kind === 'timestamp' ? { kind, timestamp: new Date(timeMs).toISOString() }
    : kind === 'offset' ? { kind, partition: caps.partitions ? partition : 0, offset: offset.trim() }
    : { kind };
  const targetLabel =
    target === null ? '' :
    target.kind === 'earliest' ? 'the earliest stored message'
    : target.kind === 'latest' ? 'the end (only new messages)'
    : target.kind === 'timestamp' ? `the first message at or after ${formatTimestamp(target.timestamp)} (${target.timestamp})`
    : caps.partitions ? `offset ${target.offset} of partition ${target.partition}` : `position ${target.offset}`;
  const effect =
    target === null ? '' :
    target.kind === 'earliest' ? `${group.name} reads every message stored in ${destination} again.`
    : target.kind === 'latest' ? `${group.name} skips every message it has not read yet; its lag drops to 0.`
    : target.kind === 'timestamp' ? `${group.name} reads from that time on: unread messages before it are skipped, read ones after it are read again.`
    : caps.partitions ? `Only partition ${target.partition} moves; the other partitions keep their positions.` : `${group.name} continues after that position.`;
  const range = partitions.find((p) => p.partition === partition) ?? (caps.partitions ? undefined : partitions[0]);

  const reset = useMutation(
    trpc.groups.resetOffsets.mutationOptions({
      onSuccess: () => {
        notify(`Offsets of ${group.name} on ${destination} reset to ${targetLabel}`);
        void queryClient.invalidateQueries(trpc.groups.pathFilter());
        void queryClient.invalidateQueries(trpc.pending.pathFilter());
        void queryClient.invalidateQueries(trpc.destinations.describe.pathFilter());
        void queryClient.invalidateQueries(trpc.metrics.pathFilter());
        onClose();
      },
    }),
  );

  useEffect(() => {
    if (step === 'confirm') summary.current?.focus();
  }, [step]);

  const review = (e?: React.FormEvent) => {
    e?.preventDefault();
    setTouched(true);
    if (!invalid) setStep('confirm');
  };

  if (step === 'confirm' && target !== null) {
    return (
      <Dialog
        title={`Reset offsets of ${group.name}?`}
        tone="danger"
        onClose={onClose}
        footer={
          <>
            <button type="button" className="btn" onClick={() => { reset.reset(); setStep('form'); }} disabled={reset.isPending}>Back</button>
            <button type="button" className="btn danger" onClick={() => reset.mutate({ connectionId: connection.id, group: group.name, destination, target })} disabled={reset.isPending}>
              {reset.isPending ? 'Resetting…' : 'Reset offsets'}
            </button>
          </>
        }
      >
        <div ref={summary} tabIndex={-1} className="stack" style={{ outline: 'none' }}>
          <dl className="kv" data-testid="reset-summary">
            <dt>Group</dt><dd>{group.name}</dd>
            <dt>Destination</dt><dd>{destination}</dd>
            <dt>Reset to</dt><dd>{targetLabel}</dd>
          </dl>
          <div>{effect}</div>
        </div>
        {reset.isError && (
          <ActionError
            error={reset.error}
            titles={{ CONFLICT: `Not reset: ${group.name} has active consumers`, FORBIDDEN: 'Not allowed', BAD_REQUEST: 'The broker refused this target' }}
          />
        )}
      </Dialog>
    );
  }

  return (
    <Dialog
      title={`Reset offsets of ${group.name}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" form={formId} className="btn primary" disabled={touched && invalid}>Review…</button>
        </>
      }
    >
      <div className="muted">Where <span className="mono">{group.name}</span> reads <span className="mono">{destination}</span> next. Only a group without running consumers can be moved.</div>
      {group.members > 0 && (
        <Alert tone="warn" title={`${group.name} has ${plural(group.members, 'active member')}`}>
          Stop its consumers first: while they are connected the broker refuses the reset.
        </Alert>
      )}
      <form id={formId} onSubmit={review} className="stack" noValidate>
        <fieldset className="stack" style={{ border: 0, padding: 0, margin: 0, gap: 6 }}>
          <legend className="field-label" style={{ marginBottom: 6 }}>Move the group to</legend>
          {KINDS.map((k) => (
            <label key={k.kind} className="checkbox">
              <input type="radio" name="reset-target" value={k.kind} checked={kind === k.kind} onChange={() => setKind(k.kind)} data-autofocus={kind === k.kind ? true : undefined} />
              <span><strong>{k.kind === 'offset' && !caps.partitions ? 'An exact position' : k.label}</strong> <span className="muted">· {k.kind === 'offset' && !caps.partitions ? 'Continue after a given position.' : k.help}</span></span>
            </label>
          ))}
        </fieldset>
        {kind === 'timestamp' && (
          <div className="field">
            <label htmlFor={`${formId}-time`}>Time (your local time)</label>
            <div className="row wrap">
              <input id={`${formId}-time`} type="datetime-local" step={1} className="input mono" value={time} onChange={(e) => setTime(e.target.value)} aria-invalid={touched && timeError !== null} aria-describedby={`${formId}-time-help`} />
              {[['15 min ago', 15 * 60_000], ['1 h ago', 3_600_000], ['24 h ago', 86_400_000]].map(([label, ms]) => (
                <button key={label} type="button" className="btn sm ghost" onClick={() => setTime(toLocalInput(Date.now() - (ms as number)))}>{label}</button>
              ))}
            </div>
            {touched && timeError !== null ? <span className="error" role="alert">{timeError}</span> : <span className="help" id={`${formId}-time-help`}>{Number.isNaN(timeMs) ? '' : `${new Date(timeMs).toISOString()} UTC`}</span>}
          </div>
        )}
        {kind === 'offset' && (
          <div className="row wrap" style={{ alignItems: 'flex-start' }}>
            {caps.partitions && (
              <div className="field">
                <label htmlFor={`${formId}-partition`}>Partition</label>
                <select id={`${formId}-partition`} className="input" value={partition} onChange={(e) => setPartition(Number(e.target.value))}>
                  {(partitions.length > 0 ? partitions.map((p) => p.partition) : [0]).map((p) => <option key={p} value={p}>{p}</option>)}
                </select>
              </div>
            )}
            <div className="field grow">
              <label htmlFor={`${formId}-offset`}>{caps.partitions ? 'Offset' : 'Position'}</label>
              <input id={`${formId}-offset`} className="input mono" inputMode={caps.partitions ? 'numeric' : undefined} value={offset} onChange={(e) => setOffset(e.target.value)} aria-invalid={touched && offsetError !== null} aria-describedby={`${formId}-offset-help`} placeholder={range?.low ?? '0'} />
              {touched && offsetError !== null ? <span className="error" role="alert">{offsetError}</span> : (
                <span className="help" id={`${formId}-offset-help`}>{range === undefined ? `The ${positionWord} of the next message the group reads.` : `Stored: ${range.low} to ${range.high} (${range.high} is the end). The group reads from here on.`}</span>
              )}
            </div>
          </div>
        )}
      </form>
    </Dialog>
  );
}
