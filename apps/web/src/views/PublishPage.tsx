import { capabilitiesOf } from '../api/capabilities';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useMemo, useState } from 'react';
import { Link, useParams, useSearchParams } from 'wouter';
import { useConnection } from '../api/hooks';
import { useTRPC } from '../api/trpc';
import type { Connection, PublishInput } from '../api/types';
import { HeadersEditor, duplicateHeaderNames, type HeaderRow } from '../components/HeadersEditor';
import { HealthBadge } from '../components/Badges';
import { Icon } from '../components/Icon';
import { MessageViewer } from '../components/MessageViewer';
import { PageHeader } from '../components/PageHeader';
import { Alert, ErrorState, LoadingRows, ReadOnlyNote } from '../components/States';
import { useToast } from '../components/Toasts';
import { formatBytes, formatDuration } from '../lib/format';
import { base64Error, emptyDraft, jsonError, takeRepublishDraft, type PublishDraft } from '../lib/republish';
import { decodeParam, routes } from '../lib/routes';

export default function PublishPage() {
  const params = useParams<{ conn: string; dest?: string }>();
  const connectionId = decodeParam(params.conn);
  const dest = params.dest === undefined ? undefined : decodeParam(params.dest);
  const { connection, query } = useConnection(connectionId);
  const down = connection?.health.status === 'down';
  return (
    <div className="page">
      <PageHeader
        crumbs={[
          { label: 'Overview', href: '/' },
          { label: connection?.name ?? connectionId, href: routes.destinations(connectionId) },
          ...(dest === undefined ? [] : [{ label: dest, href: routes.destination(connectionId, dest) }]),
        ]}
        title="Publish"
        badges={connection !== undefined && connection.health.status !== 'up' ? <HealthBadge health={connection.health} /> : undefined}
        subtitle="Send a message by hand, e.g. to test a consumer or replay a fix."
      />
      {query.isPending && <LoadingRows />}
      {query.isError && <ErrorState error={query.error} onRetry={() => void query.refetch()} />}
      {query.isSuccess && connection === undefined && <Alert tone="danger" title="Unknown connection">No connection named <code>{connectionId}</code> is configured.</Alert>}
      {down && <Alert tone="danger" title="Broker unreachable">{connection?.health.reason ?? 'The server cannot reach this broker.'} Publishing is possible again when it answers.</Alert>}
      {connection !== undefined && !down && <PublishForm connection={connection} destination={dest} />}
    </div>
  );
}

const PROPERTY_LABELS: Record<string, { label: string; type: 'text' | 'number' | 'boolean'; help?: string }> = {
  messageId: { label: 'Message ID', type: 'text' },
  correlationId: { label: 'Correlation ID', type: 'text' },
  replyTo: { label: 'Reply to', type: 'text' },
  contentType: { label: 'Content type', type: 'text' },
  expirationMs: { label: 'Expiration (ms)', type: 'number' },
  delaySeconds: { label: 'Delay (s)', type: 'number', help: '0–900' },
  groupId: { label: 'Message group ID', type: 'text', help: 'FIFO queues' },
  deduplicationId: { label: 'Deduplication ID', type: 'text', help: 'FIFO queues' },
  routingKey: { label: 'Routing key', type: 'text' },
  persistent: { label: 'Persistent', type: 'boolean' },
};

export function PublishForm({ connection, destination: fixedDestination }: { connection: Connection; destination?: string | undefined }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const notify = useToast();
  const caps = capabilitiesOf(connection);
  const [search] = useSearchParams();
  const sourceId = search.get('from');
  const initial = useMemo<PublishDraft>(() => takeRepublishDraft(sourceId) ?? emptyDraft(fixedDestination ?? ''), [sourceId, fixedDestination]);
  const [destination, setDestination] = useState(fixedDestination ?? initial.destination);
  const [key, setKey] = useState(initial.key);
  const [headers, setHeaders] = useState<HeaderRow[]>(initial.headers);
  const [encoding, setEncoding] = useState(initial.encoding);
  const [value, setValue] = useState(initial.value);
  const [partition, setPartition] = useState(initial.partition);
  const [copies, setCopies] = useState('1');
  const [props, setProps] = useState<Record<string, string>>({});
  const [mode, setMode] = useState<'send' | 'request'>('send');
  const [timeoutMs, setTimeoutMs] = useState('5000');
  const ids = { dest: useId(), key: useId(), value: useId(), copies: useId(), partition: useId(), timeout: useId() };

  const destinations = useQuery(trpc.destinations.list.queryOptions({ connectionId: connection.id, offset: 0, limit: 500, sort: 'name', dir: 'asc' }, { enabled: fixedDestination === undefined }));
  const publish = useMutation(trpc.messages.publish.mutationOptions({
    onSuccess: (r) => {
      notify(`Published ${r.published} message${r.published === 1 ? '' : 's'} to ${destination}`);
      void queryClient.invalidateQueries(trpc.destinations.pathFilter());
    },
  }));
  const request = useMutation(trpc.messages.request.mutationOptions());

  const valueError = encoding === 'json' ? jsonError(value) : encoding === 'base64' ? base64Error(value) : null;
  const copiesNumber = Number(copies);
  const copiesError = Number.isInteger(copiesNumber) && copiesNumber >= 1 && copiesNumber <= 10_000 ? null : 'Between 1 and 10,000';
  const headerError = duplicateHeaderNames(headers).length > 0 || headers.some((h) => h.name.trim() === '' && h.value !== '');
  const partitionError = partition !== '' && !/^\d+$/.test(partition) ? 'A partition number' : null;
  const valueBytes = encoding === 'base64' ? Math.floor((value.replace(/\s+/g, '').length * 3) / 4) : new TextEncoder().encode(value).byteLength;
  const tooLarge = caps.maxMessageBytes !== null && valueBytes > caps.maxMessageBytes;
  const invalid = destination.trim() === '' || valueError !== null || copiesError !== null || headerError || partitionError !== null || tooLarge;
  const extraProps = caps.publishProperties.filter((p) => p !== 'partition' && PROPERTY_LABELS[p] !== undefined);
  const busy = publish.isPending || request.isPending;

  const buildMessage = (): PublishInput['messages'][number] => {
    const properties: Record<string, string | number | boolean> = {};
    if (partition !== '' && caps.partitions) properties.partition = Number(partition);
    for (const p of extraProps) {
      const raw = props[p];
      if (raw === undefined || raw === '') continue;
      const kind = PROPERTY_LABELS[p]!.type;
      properties[p] = kind === 'number' ? Number(raw) : kind === 'boolean' ? raw === 'true' : raw;
    }
    return {
      key: key === '' ? null : key,
      headers: Object.fromEntries(headers.filter((h) => h.name.trim() !== '').map((h) => [h.name.trim(), h.value])),
      value: { encoding, data: value },
      ...(Object.keys(properties).length > 0 ? { properties } : {}),
    } as PublishInput['messages'][number];
  };

  const submit = () => {
    if (invalid || busy || connection.readOnly) return;
    if (mode === 'request') {
      request.mutate({ connectionId: connection.id, destination: destination.trim(), message: buildMessage(), timeoutMs: Number(timeoutMs) || 5000, ...(props.replyTo ? { replyTo: props.replyTo } : {}) });
    } else {
      publish.mutate({ connectionId: connection.id, destination: destination.trim(), messages: [buildMessage()], ...(copiesNumber > 1 ? { copies: copiesNumber } : {}) });
    }
  };

  const formatJson = () => {
    try {
      setValue(JSON.stringify(JSON.parse(value), null, 2));
    } catch {
      // The error is already shown under the field.
    }
  };

  const error = publish.error ?? request.error;
  return (
    <div className="grid cols-2" style={{ alignItems: 'start' }}>
      <form
        className="card"
        aria-label="Publish a message"
        onSubmit={(e) => { e.preventDefault(); submit(); }}
        onKeyDown={(e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); submit(); } }}
      >
        <div className="card-header">
          <h2 className="grow">{initial.sourceId !== null ? 'Re-publish message' : 'New message'}</h2>
          <div className="btn-group" role="group" aria-label="Mode">
            <button type="button" className="btn sm" aria-pressed={mode === 'send'} onClick={() => setMode('send')}>Send</button>
            <button type="button" className="btn sm" aria-pressed={mode === 'request'} onClick={() => setMode('request')}>Request–reply</button>
          </div>
        </div>
        <fieldset className="card-body stack" style={{ border: 0, margin: 0 }} disabled={connection.readOnly}>
          {connection.readOnly && <ReadOnlyNote what="Publishing" />}
          {initial.sourceId !== null && (
            <Alert tone="info" title="Prefilled from an existing message">Key, headers and value are copied from message <code>{initial.sourceId}</code>. Review them, then send.</Alert>
          )}
          <div className="field">
            <label htmlFor={ids.dest}>Destination</label>
            {fixedDestination !== undefined && initial.sourceId === null ? (
              <input id={ids.dest} className="input mono" value={destination} readOnly style={{ background: 'var(--surface-2)' }} />
            ) : (
              <>
                <input id={ids.dest} className="input mono" list={`${ids.dest}-list`} value={destination} onChange={(e) => setDestination(e.target.value)} placeholder="topic, queue or stream" required />
                <datalist id={`${ids.dest}-list`}>
                  {destinations.data?.items.map((d) => <option key={d.name} value={d.name} />)}
                </datalist>
              </>
            )}
          </div>
          <div className="row wrap" style={{ alignItems: 'flex-start' }}>
            <div className="field grow">
              <label htmlFor={ids.key}>Key</label>
              <input id={ids.key} className="input mono" value={key} onChange={(e) => setKey(e.target.value)} placeholder="empty = no key" />
            </div>
            {caps.partitions && caps.publishProperties.includes('partition') && (
              <div className="field" style={{ width: 120 }}>
                <label htmlFor={ids.partition}>Partition</label>
                <input id={ids.partition} className="input mono" inputMode="numeric" value={partition} onChange={(e) => setPartition(e.target.value)} placeholder="by key" aria-invalid={partitionError !== null} />
                {partitionError !== null && <span className="error">{partitionError}</span>}
              </div>
            )}
          </div>
          <HeadersEditor rows={headers} onChange={setHeaders} disabled={connection.readOnly} />
          <div className="field">
            <div className="row">
              <label htmlFor={ids.value} className="grow field-label">Value</label>
              <div className="btn-group" role="group" aria-label="Value encoding">
                {(['json', 'text', 'base64'] as const).map((enc) => (
                  <button key={enc} type="button" className="btn sm" aria-pressed={encoding === enc} onClick={() => setEncoding(enc)}>
                    {enc === 'json' ? 'JSON' : enc === 'text' ? 'Text' : 'Base64'}
                  </button>
                ))}
              </div>
              {encoding === 'json' && <button type="button" className="btn sm ghost" onClick={formatJson} disabled={valueError !== null}>Format</button>}
            </div>
            <textarea id={ids.value} className="input" rows={12} spellCheck={false} value={value} onChange={(e) => setValue(e.target.value)} aria-invalid={valueError !== null} aria-describedby={`${ids.value}-err`} />
            <div className="row small">
              {valueError !== null ? <span id={`${ids.value}-err`} className="error" role="alert">{encoding === 'json' ? 'Invalid JSON: ' : ''}{valueError}</span> : <span className="muted" id={`${ids.value}-err`}>{formatBytes(valueBytes)}{caps.maxMessageBytes !== null && ` of at most ${formatBytes(caps.maxMessageBytes)}`}</span>}
              {tooLarge && <span className="error">Too large for this broker</span>}
            </div>
          </div>
          {extraProps.length > 0 && (
            <details>
              <summary className="field-label" style={{ cursor: 'pointer' }}>Broker properties ({extraProps.length})</summary>
              <div className="grid" style={{ gridTemplateColumns: 'repeat(auto-fill, minmax(180px, 1fr))', marginTop: 8, gap: 8 }}>
                {extraProps.map((p) => {
                  const meta = PROPERTY_LABELS[p]!;
                  return (
                    <label key={p} className="field">
                      <span className="field-label">{meta.label}{meta.help && <span className="muted"> · {meta.help}</span>}</span>
                      {meta.type === 'boolean' ? (
                        <select className="input" value={props[p] ?? ''} onChange={(e) => setProps({ ...props, [p]: e.target.value })}>
                          <option value="">default</option>
                          <option value="true">yes</option>
                          <option value="false">no</option>
                        </select>
                      ) : (
                        <input className="input mono" inputMode={meta.type === 'number' ? 'numeric' : undefined} value={props[p] ?? ''} onChange={(e) => setProps({ ...props, [p]: e.target.value })} />
                      )}
                    </label>
                  );
                })}
              </div>
            </details>
          )}
          <div className="row wrap" style={{ alignItems: 'flex-end' }}>
            {mode === 'send' ? (
              <div className="field" style={{ width: 120 }}>
                <label htmlFor={ids.copies}>Copies</label>
                <input id={ids.copies} className="input" type="number" min={1} max={10000} value={copies} onChange={(e) => setCopies(e.target.value)} aria-invalid={copiesError !== null} />
                {copiesError !== null && <span className="error">{copiesError}</span>}
              </div>
            ) : (
              <div className="field" style={{ width: 140 }}>
                <label htmlFor={ids.timeout}>Reply timeout (ms)</label>
                <input id={ids.timeout} className="input" type="number" min={100} max={60000} value={timeoutMs} onChange={(e) => setTimeoutMs(e.target.value)} />
              </div>
            )}
            <span className="spacer" />
            <span className="muted small"><kbd>Ctrl</kbd>+<kbd>Enter</kbd></span>
            <button type="submit" className="btn primary" disabled={invalid || busy || connection.readOnly}>
              <Icon name="send" size={14} />
              {busy ? 'Sending…' : mode === 'request' ? 'Send and wait for reply' : copiesNumber > 1 ? `Publish ${copiesNumber} copies` : 'Publish'}
            </button>
          </div>
        </fieldset>
      </form>
      <div className="stack">
        {error != null && <ErrorState error={error} compact />}
        {publish.isSuccess && (
          <Alert tone="info" title={`Published ${publish.data.published} message${publish.data.published === 1 ? '' : 's'}`}>
            {publish.data.ids.filter((x) => x !== null).length > 0 && (
              <div className="mono small" style={{ maxHeight: 120, overflow: 'auto' }}>{publish.data.ids.filter((x) => x !== null).slice(0, 20).join(', ')}{publish.data.ids.length > 20 && ' …'}</div>
            )}
            <Link href={routes.destination(connection.id, destination.trim())}>Open {destination.trim()}</Link>
          </Alert>
        )}
        {mode === 'request' && request.isPending && <Alert tone="info" title="Waiting for the reply…">The request was sent; the reply appears here when a consumer answers.</Alert>}
        {mode === 'request' && request.isSuccess && (
          <>
            <Alert tone="info" title={`Reply received after ${formatDuration(request.data.elapsedMs)}`} />
            <MessageViewer message={request.data.reply} connectionId={connection.id} readOnly={connection.readOnly} />
          </>
        )}
      </div>
    </div>
  );
}
