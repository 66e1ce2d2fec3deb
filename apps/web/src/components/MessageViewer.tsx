import { useMemo, useState } from 'react';
import { Link } from 'wouter';
import type { Capabilities, WireMessage } from '../api/types';
import { formatBytes, formatTimestamp } from '../lib/format';
import { decodePayload, hexDump, jsonTokens, type PayloadKind } from '../lib/payload';
import { saveRepublishDraft } from '../lib/republish';
import { routes } from '../lib/routes';
import { LoadFullValue } from './FullValue';
import { Icon } from './Icon';
import { useCopy } from './Toasts';

/** Characters rendered before "show all": keeps a 1 MiB payload from freezing the tab. */
export const PREVIEW_CHARS = 20_000;
export const PREVIEW_HEX_BYTES = 4_096;

type View = 'pretty' | 'text' | 'hex';

function defaultView(kind: PayloadKind): View {
  return kind === 'json' ? 'pretty' : kind === 'binary' ? 'hex' : 'text';
}

/** `capabilities`: offer to load a value the live tail cut short (where the broker reads by position). */
type ViewerProps = { message: WireMessage; connectionId: string; readOnly: boolean; onClose?: () => void; capabilities?: Capabilities };

/** Keyed by the message so the format and "show all" choices reset when another one opens. */
export function MessageViewer(props: ViewerProps) {
  const m = props.message;
  return <MessageViewerBody key={`${m.partition ?? ''}:${m.position ?? ''}:${m.id}`} {...props} />;
}

function MessageViewerBody({ message: received, connectionId, readOnly, onClose, capabilities }: ViewerProps) {
  const [full, setFull] = useState<WireMessage | null>(null);
  const message = full ?? received;
  const payload = useMemo(() => decodePayload(message.valueBase64), [message.valueBase64]);
  // Null until the operator picks a format: a whole value loaded later may be JSON where the cut one was not.
  const [chosen, setView] = useState<View | null>(null);
  const view = chosen ?? defaultView(payload.kind);
  const [showAll, setShowAll] = useState(false);
  const copy = useCopy();
  const permalink = routes.message(connectionId, message.destination, message.id, { partition: message.partition, position: message.position });
  const headers = Object.entries(message.headers);
  const properties = Object.entries(message.properties);
  const dl = message.deadLetter;

  const text = view === 'pretty' && payload.kind === 'json' ? JSON.stringify(payload.json, null, 2) : (payload.text ?? '');
  const tooLong = view !== 'hex' && text.length > PREVIEW_CHARS;
  const hexTooLong = view === 'hex' && payload.bytes.byteLength > PREVIEW_HEX_BYTES;
  const clipped = !showAll && (tooLong || hexTooLong);

  return (
    <section className="card viewer" aria-label="Message">
      <div className="card-header">
        <h2 className="grow" style={{ wordBreak: 'break-all' }}>
          Message <span className="mono muted">{message.position ?? message.id}</span>
        </h2>
        <Link href={permalink} className="btn sm ghost" title="Link to this message (paste it into the incident channel)">
          <Icon name="link" size={14} /> Link
        </Link>
        <button type="button" className="btn sm ghost" onClick={() => copy(`${location.origin}${permalink}`, 'Link')}>
          <Icon name="copy" size={14} /> Copy link
        </button>
        {!readOnly && message.truncated && (
          <button type="button" className="btn sm" disabled title="Only part of this value arrived: load the full value before re-publishing it">
            <Icon name="redo" size={14} /> Re-publish
          </button>
        )}
        {!readOnly && !message.truncated && (
          <Link href={`${routes.publish(connectionId, message.deadLetter?.origin ?? message.destination)}?from=${encodeURIComponent(message.id)}`} onClick={() => saveRepublishDraft(message)} className="btn sm" title="Open the publish form prefilled with this message">
            <Icon name="redo" size={14} /> Re-publish
          </Link>
        )}
        {onClose !== undefined && (
          <button type="button" className="btn sm ghost icon" onClick={onClose} aria-label="Close message">
            <Icon name="x" size={14} />
          </button>
        )}
      </div>
      <div className="card-body stack">
        {dl !== null && (
          <div className="alert danger" role="note">
            <Icon name="warn" />
            <div className="grow">
              <div className="alert-title">Dead-lettered{dl.origin !== null && <> from <code>{dl.origin}</code></>}</div>
              <div>
                {dl.reason ?? 'No reason recorded'}
                {dl.attempts !== null && <> · {dl.attempts} attempt{dl.attempts === 1 ? '' : 's'}</>}
                {dl.failedAt !== null && <> · {formatTimestamp(dl.failedAt)}</>}
              </div>
            </div>
          </div>
        )}
        <dl className="kv">
          <dt>Key</dt>
          <dd>{message.key === null ? <span className="empty-inline">null</span> : message.key}</dd>
          <dt>Timestamp</dt>
          <dd>{formatTimestamp(message.timestamp)} <span className="muted">({message.timestamp})</span></dd>
          {message.partition !== null && (
            <>
              <dt>Partition</dt>
              <dd>{message.partition}</dd>
            </>
          )}
          {message.position !== null && (
            <>
              <dt>{message.partition !== null ? 'Offset' : 'Position'}</dt>
              <dd>{message.position}</dd>
            </>
          )}
          <dt>ID</dt>
          <dd>{message.id}</dd>
          <dt>Size</dt>
          <dd>{formatBytes(message.size)} · {payload.kind}</dd>
          {message.deliveryCount !== null && (
            <>
              <dt>Deliveries</dt>
              <dd>{message.deliveryCount}{message.redelivered === true && ' · redelivered'}</dd>
            </>
          )}
        </dl>

        <div>
          <div className="row" style={{ marginBottom: 6 }}>
            <h3 className="grow">Value</h3>
            <div className="btn-group" role="group" aria-label="Value format">
              {(['pretty', 'text', 'hex'] as const).map((v) => (
                <button key={v} type="button" className="btn sm" aria-pressed={view === v} disabled={v === 'pretty' && payload.kind !== 'json'} onClick={() => setView(v)}>
                  {v === 'pretty' ? 'JSON' : v === 'text' ? 'Text' : 'Hex'}
                </button>
              ))}
            </div>
            <button type="button" className="btn sm" disabled={message.truncated} title={message.truncated ? 'Only part of this value arrived: load the full value before copying it' : undefined} onClick={() => copy(payload.kind === 'binary' ? message.valueBase64 : (payload.text ?? ''), payload.kind === 'binary' ? 'Value (base64)' : 'Value')}>
              <Icon name="copy" size={14} /> Copy value
            </button>
          </div>
          {message.truncated && (
            <div className="truncated-note" role="note" style={{ flexWrap: 'wrap' }}>
              <Icon name="info" size={14} /> The server sent only the first {formatBytes(payload.bytes.byteLength)} of {formatBytes(message.size)}.
              {capabilities !== undefined && <LoadFullValue message={message} connectionId={connectionId} capabilities={capabilities} onLoaded={setFull} />}
            </div>
          )}
          {full !== null && (
            <div className="truncated-note" role="status">
              <Icon name="check" size={14} /> Whole value loaded from the broker: {formatBytes(payload.bytes.byteLength)}.
            </div>
          )}
          {payload.kind === 'empty' ? (
            <div className="code empty-inline">(empty value, 0 bytes)</div>
          ) : view === 'hex' ? (
            <HexView bytes={payload.bytes} limit={clipped ? PREVIEW_HEX_BYTES : payload.bytes.byteLength} />
          ) : view === 'pretty' && payload.kind === 'json' && !clipped ? (
            <JsonView value={payload.json} />
          ) : (
            <pre className="code" data-testid="value-text">{clipped ? text.slice(0, PREVIEW_CHARS) : text}</pre>
          )}
          {clipped && (
            <div className="truncated-note">
              <span>Showing the first {view === 'hex' ? formatBytes(PREVIEW_HEX_BYTES) : `${PREVIEW_CHARS.toLocaleString('en-US')} characters`} of {formatBytes(payload.bytes.byteLength)}.</span>
              <button type="button" className="btn sm" onClick={() => setShowAll(true)}>
                Show all
              </button>
            </div>
          )}
        </div>

        <div>
          <div className="row" style={{ marginBottom: 6 }}>
            <h3 className="grow">Headers <span className="muted">({headers.length})</span></h3>
            {headers.length > 0 && (
              <button type="button" className="btn sm ghost" onClick={() => copy(JSON.stringify(message.headers, null, 2), 'Headers')}>
                <Icon name="copy" size={14} /> Copy
              </button>
            )}
          </div>
          {headers.length === 0 ? (
            <div className="empty-inline">No headers</div>
          ) : (
            <table className="table">
              <tbody>
                {headers.map(([k, v]) => (
                  <tr key={k}>
                    <td className="mono" style={{ width: '35%' }} title={k}>{k}</td>
                    <td className="mono truncate" title={v}>{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        {properties.length > 0 && (
          <div>
            <h3 style={{ marginBottom: 6 }}>Broker properties</h3>
            <table className="table">
              <tbody>
                {properties.map(([k, v]) => (
                  <tr key={k}>
                    <td className="mono" style={{ width: '35%' }} title={k}>{k}</td>
                    <td className="mono truncate" title={v}>{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}

export function JsonView({ value }: { value: unknown }) {
  const tokens = useMemo(() => jsonTokens(value), [value]);
  return (
    <pre className="code" data-testid="value-json">
      {tokens.map((tok, i) => (tok.t === 'p' ? tok.v : <span key={i} className={tok.t}>{tok.v}</span>))}
    </pre>
  );
}

export function HexView({ bytes, limit }: { bytes: Uint8Array; limit: number }) {
  const rows = useMemo(() => hexDump(bytes, limit), [bytes, limit]);
  return (
    <pre className="code hex" data-testid="value-hex">
      {rows.map((r) => (
        <span key={r.offset}>
          <span className="off">{r.offset}</span>  {r.hex}  <span className="ascii">{r.ascii}</span>
          {'\n'}
        </span>
      ))}
    </pre>
  );
}
