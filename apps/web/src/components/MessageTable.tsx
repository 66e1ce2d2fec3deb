import { useMemo } from 'react';
import type { WireMessage } from '../api/types';
import { formatBytes, formatShortTime, formatTimestamp } from '../lib/format';
import { previewPayload } from '../lib/payload';
import { VirtualTable, type Column } from './VirtualTable';

export function messageKey(m: WireMessage): string {
  return `${m.partition ?? ''}:${m.position ?? ''}:${m.id}`;
}

/** Stored or tailed messages, virtualised; the first column is the offset/position or id. */
export function MessageTable({
  label, messages, partitions, selectedKey, onSelect, height, onEndReached, footer, showDeadLetter = false, checked, onToggle,
}: {
  /** With these, a first column of checkboxes selects messages by id (e.g. for redrive). */
  checked?: ReadonlySet<string>;
  onToggle?: (m: WireMessage) => void;
  label: string;
  messages: WireMessage[];
  partitions: boolean;
  selectedKey: string | null;
  onSelect: (m: WireMessage) => void;
  height: number | string;
  onEndReached?: () => void;
  footer?: React.ReactNode;
  showDeadLetter?: boolean;
}) {
  // Times from today show without a date: the dense time column can then give its room away.
  const allToday = useMemo(() => messages.every((m) => formatShortTime(m.timestamp).length <= 12), [messages]);
  const columns = useMemo<Column<WireMessage>[]>(() => {
    // Ten dead-letter columns must fit beside an open message (see .split-wide-list in
    // styles.css, which reserves their minimum widths): narrower tracks with dense padding, and
    // the reason gets the room first. Fixed widths fit their longest content at 6px padding.
    const d = showDeadLetter;
    const cols: Column<WireMessage>[] = [];
    if (checked !== undefined && onToggle !== undefined) {
      cols.push({
        id: 'check', header: <span className="sr-only">Select</span>, width: d ? '32px' : '34px',
        render: (m) => (
          <input type="checkbox" aria-label={`Select message ${m.position ?? m.id}`} checked={checked.has(m.id)} onClick={(e) => e.stopPropagation()} onChange={() => onToggle(m)} />
        ),
      });
    }
    cols.push(
      { id: 'pos', header: partitions ? 'Offset' : 'Position / ID', width: d ? (partitions ? 'minmax(66px, 0.8fr)' : 'minmax(100px, 1fr)') : 'minmax(90px, 1fr)', render: (m) => <span className="mono" title={m.position ?? m.id}>{m.position ?? m.id}</span> },
    );
    if (partitions) cols.push({ id: 'part', header: 'Part.', width: d ? '48px' : '58px', align: 'right', render: (m) => m.partition ?? '—' });
    cols.push(
      { id: 'time', header: 'Time', width: d ? (allToday ? '104px' : '142px') : '148px', render: (m) => <span className="mono" title={formatTimestamp(m.timestamp)}>{formatShortTime(m.timestamp)}</span> },
      { id: 'key', header: 'Key', width: d ? 'minmax(64px, 1fr)' : 'minmax(80px, 1fr)', render: (m) => (m.key === null ? <span className="muted">null</span> : <span className="mono" title={m.key}>{m.key}</span>) },
    );
    if (d) {
      cols.push(
        { id: 'origin', header: 'Origin', width: 'minmax(72px, 1fr)', render: (m) => <span className="mono" title={m.deadLetter?.origin ?? undefined}>{m.deadLetter?.origin ?? '—'}</span> },
        { id: 'reason', header: 'Reason', width: 'minmax(170px, 3fr)', render: (m) => <span title={m.deadLetter?.reason ?? undefined}>{m.deadLetter?.reason ?? '—'}</span> },
        { id: 'attempts', header: 'Tries', width: '50px', align: 'right', render: (m) => m.deadLetter?.attempts ?? m.deliveryCount ?? '—' },
      );
    }
    cols.push(
      { id: 'value', header: 'Value', width: d ? 'minmax(64px, 1fr)' : 'minmax(160px, 3fr)', render: (m) => <span className="mono muted">{previewPayload(m.valueBase64, 200)}</span> },
      { id: 'size', header: 'Size', width: d ? '62px' : '76px', align: 'right', render: (m) => formatBytes(m.size) },
    );
    return cols;
  }, [partitions, showDeadLetter, checked, onToggle, allToday]);
  return (
    <VirtualTable
      label={label}
      rows={messages}
      columns={columns}
      rowKey={messageKey}
      selectedKey={selectedKey}
      onActivate={onSelect}
      height={height}
      onEndReached={onEndReached}
      footer={footer}
      dense={showDeadLetter}
    />
  );
}
