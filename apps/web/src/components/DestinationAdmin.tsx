import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useLocation } from 'wouter';
import { capabilitiesOf } from '../api/capabilities';
import { useTRPC } from '../api/trpc';
import type { Connection, DestinationDetail, RouterInputs } from '../api/types';
import { formatCount } from '../lib/format';
import { routes } from '../lib/routes';
import { useDebounced } from '../lib/useDebounced';
import { writeBlocked } from '../lib/write-access';
import { ActionError } from './ActionError';
import { Dialog, TypedConfirmDialog } from './Dialog';
import { Icon } from './Icon';
import { Alert } from './States';
import { useToast } from './Toasts';

type CreateInput = RouterInputs['destinations']['create'];

/** "New destination" where the broker can create one; disabled with the reason on a read-only connection. */
export function CreateDestinationButton({ connection }: { connection: Connection }) {
  const [open, setOpen] = useState(false);
  if (!capabilitiesOf(connection).createDestination) return null;
  const blocked = writeBlocked(connection, 'creating destinations', 'admin');
  return (
    <>
      <button type="button" className="btn" onClick={() => setOpen(true)} disabled={blocked !== null} title={blocked ?? undefined}>
        <Icon name={blocked === null ? 'plus' : 'lock'} size={14} /> New destination
      </button>
      {open && <CreateDestinationDialog connection={connection} onClose={() => setOpen(false)} />}
    </>
  );
}

export function CreateDestinationDialog({ connection, onClose }: { connection: Connection; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const notify = useToast();
  const [, navigate] = useLocation();
  const caps = capabilitiesOf(connection);
  const id = useId();
  const [name, setName] = useState('');
  const [partitions, setPartitions] = useState('1');
  const [type, setType] = useState('');
  const [withDlq, setWithDlq] = useState(false);
  const [dlqName, setDlqName] = useState<string | null>(null);
  const [maxDeliveries, setMaxDeliveries] = useState('5');
  const [touched, setTouched] = useState(false);

  const trimmed = name.trim();
  const settledName = useDebounced(trimmed, 250);
  // The broker's naming convention suggests the DLQ name until the operator types their own.
  const suggested = useQuery(
    trpc.destinations.deadLetterName.queryOptions({ connectionId: connection.id, name: settledName }, { enabled: withDlq && settledName !== '', retry: false }),
  );
  const dlq = (dlqName ?? (settledName === trimmed ? suggested.data?.name : undefined) ?? '').trim();

  const errors = {
    name: trimmed === '' ? 'Enter a name.' : null,
    partitions: caps.partitions && !/^\d+$/.test(partitions.trim()) ? 'Enter a whole number of partitions.' : caps.partitions && (Number(partitions) < 1 || Number(partitions) > 10_000) ? 'From 1 to 10,000 partitions.' : null,
    dlq: withDlq && dlq === '' ? 'Enter the dead-letter queue name.' : withDlq && dlq === trimmed ? 'The dead-letter queue must be another destination.' : null,
    maxDeliveries: withDlq && (!/^\d+$/.test(maxDeliveries.trim()) || Number(maxDeliveries) < 1 || Number(maxDeliveries) > 1000) ? 'From 1 to 1,000 deliveries.' : null,
  };
  const invalid = Object.values(errors).some((e) => e !== null);
  const shown = (key: keyof typeof errors) => (touched ? errors[key] : null);

  const create = useMutation(
    trpc.destinations.create.mutationOptions({
      onSuccess: ({ created }, vars) => {
        notify(`Created ${created}${vars.deadLetter ? ` with dead-letter queue ${vars.deadLetter.destination}` : ''}`);
        void queryClient.invalidateQueries(trpc.destinations.pathFilter());
        void queryClient.invalidateQueries(trpc.deadLetters.pathFilter());
        onClose();
        navigate(routes.destination(connection.id, created));
      },
    }),
  );

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (invalid || create.isPending) return;
    const input: CreateInput = {
      connectionId: connection.id,
      name: trimmed,
      ...(caps.partitions ? { partitions: Number(partitions) } : {}),
      ...(type.trim() !== '' ? { type: type.trim() } : {}),
      ...(withDlq ? { deadLetter: { destination: dlq, maxDeliveries: Number(maxDeliveries) } } : {}),
    };
    create.mutate(input);
  };

  const field = (key: keyof typeof errors, help: string) =>
    shown(key) !== null ? <span className="error" id={`${id}-${key}-msg`} role="alert">{shown(key)}</span> : <span className="help" id={`${id}-${key}-msg`}>{help}</span>;

  return (
    <Dialog
      title={`New destination on ${connection.name}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" form={id} className="btn primary" disabled={create.isPending || (touched && invalid)}>
            {create.isPending ? 'Creating…' : 'Create'}
          </button>
        </>
      }
    >
      <form id={id} onSubmit={submit} className="stack" noValidate>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} className="input mono" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" spellCheck={false} maxLength={1024} data-autofocus aria-invalid={shown('name') !== null} aria-describedby={`${id}-name-msg`} />
          {field('name', 'The broker checks its own naming rules when you create it.')}
        </div>
        <div className="row wrap" style={{ alignItems: 'flex-start' }}>
          {caps.partitions && (
            <div className="field" style={{ width: 140 }}>
              <label htmlFor={`${id}-partitions`}>Partitions</label>
              <input id={`${id}-partitions`} className="input mono" inputMode="numeric" value={partitions} onChange={(e) => setPartitions(e.target.value)} aria-invalid={shown('partitions') !== null} aria-describedby={`${id}-partitions-msg`} />
              {field('partitions', 'Cannot be lowered later.')}
            </div>
          )}
          <div className="field grow">
            <label htmlFor={`${id}-type`}>Type <span className="muted">(optional)</span></label>
            <input id={`${id}-type`} className="input mono" value={type} onChange={(e) => setType(e.target.value)} autoComplete="off" spellCheck={false} maxLength={50} aria-describedby={`${id}-type-help`} />
            <span className="help" id={`${id}-type-help`}>Where the broker has several kinds (e.g. quorum, stream, fifo). Empty: its default.</span>
          </div>
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={withDlq} onChange={(e) => setWithDlq(e.target.checked)} />
          Send messages that keep failing to a dead-letter queue
        </label>
        {withDlq && (
          <div className="row wrap" style={{ alignItems: 'flex-start' }}>
            <div className="field grow">
              <label htmlFor={`${id}-dlq`}>Dead-letter queue</label>
              <input id={`${id}-dlq`} className="input mono" value={dlqName ?? dlq} onChange={(e) => setDlqName(e.target.value)} autoComplete="off" spellCheck={false} maxLength={1024} aria-invalid={shown('dlq') !== null} aria-describedby={`${id}-dlq-msg`} />
              {field('dlq', dlqName === null && dlq !== '' ? "The broker's naming convention; created if it does not exist." : 'Created if it does not exist.')}
            </div>
            <div className="field" style={{ width: 140 }}>
              <label htmlFor={`${id}-max`}>Max deliveries</label>
              <input id={`${id}-max`} className="input mono" inputMode="numeric" value={maxDeliveries} onChange={(e) => setMaxDeliveries(e.target.value)} aria-invalid={shown('maxDeliveries') !== null} aria-describedby={`${id}-maxDeliveries-msg`} />
              {field('maxDeliveries', 'Then it is dead-lettered.')}
            </div>
          </div>
        )}
      </form>
      {create.isError && (
        <ActionError
          error={create.error}
          titles={{ CONFLICT: `${trimmed} already exists`, BAD_REQUEST: 'The broker refused these settings', METHOD_NOT_SUPPORTED: 'Not supported by this broker' }}
        />
      )}
    </Dialog>
  );
}

/** "Delete…" behind a typed-name confirmation, where the broker can delete; disabled with the reason when read-only. */
export function DeleteDestinationButton({ connection, name, detail }: { connection: Connection; name: string; detail: DestinationDetail | undefined }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const notify = useToast();
  const [, navigate] = useLocation();
  const [open, setOpen] = useState(false);
  const remove = useMutation(
    trpc.destinations.delete.mutationOptions({
      onSuccess: ({ deleted }) => {
        notify(`Deleted ${deleted}`);
        setOpen(false);
        navigate(routes.destinations(connection.id));
        queryClient.removeQueries(trpc.destinations.describe.queryFilter({ connectionId: connection.id, name: deleted }));
        void queryClient.invalidateQueries(trpc.destinations.list.pathFilter());
        void queryClient.invalidateQueries(trpc.deadLetters.pathFilter());
      },
    }),
  );
  if (!capabilitiesOf(connection).deleteDestination) return null;
  const blocked = writeBlocked(connection, 'deleting destinations', 'admin');
  const depth = detail?.depth ?? null;
  return (
    <>
      <button type="button" className="btn danger-outline" onClick={() => { remove.reset(); setOpen(true); }} disabled={blocked !== null} title={blocked ?? `Delete ${name} and its messages`}>
        <Icon name={blocked === null ? 'trash' : 'lock'} size={14} /> Delete…
      </button>
      {open && (
        <TypedConfirmDialog
          title={`Delete ${name}?`}
          expected={name}
          confirmLabel={remove.isPending ? 'Deleting…' : 'Delete destination'}
          busy={remove.isPending}
          onCancel={() => setOpen(false)}
          onConfirm={() => remove.mutate({ connectionId: connection.id, name })}
        >
          <Alert tone="danger" title="This cannot be undone">
            <code>{name}</code> is deleted with {depth === null ? 'every message in it' : depth === 1 ? 'the 1 message in it' : `the ${formatCount(depth)} messages in it`}. Consumers reading it fail and consumer groups lose their position on it.
          </Alert>
          {detail?.deadLetter != null && <div className="muted">Its dead-letter queue <code>{detail.deadLetter}</code> is not deleted.</div>}
          {detail?.isDeadLetter && detail.deadLetterSources.length > 0 && (
            <div className="muted">It is the dead-letter queue of <code>{detail.deadLetterSources.join(', ')}</code>: their failed messages may have nowhere to go.</div>
          )}
          {remove.isError && <ActionError error={remove.error} titles={{ NOT_FOUND: `${name} no longer exists`, CONFLICT: 'Not deleted' }} />}
        </TypedConfirmDialog>
      )}
    </>
  );
}
