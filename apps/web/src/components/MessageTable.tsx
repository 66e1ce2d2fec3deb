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
  const columns = useMemo<Column<WireMessage>[]>(() => {
    const cols: Column<WireMessage>[] = [];
    if (checked !== undefined && onToggle !== undefined) {
      cols.push({
        id: 'check', header: <span className="sr-only">Select</span>, width: '34px',
        render: (m) => (
          <input type="checkbox" aria-label={`Select message ${m.position ?? m.id}`} checked={checked.has(m.id)} onClick={(e) => e.stopPropagation()} onChange={() => onToggle(m)} />
        ),
      });
    }
    cols.push(
      { id: 'pos', header: partitions ? 'Offset' : 'Position / ID', width: 'minmax(90px, 1fr)', render: (m) => <span className="mono">{m.position ?? m.id}</span> },
    );
    if (partitions) cols.push({ id: 'part', header: 'Part.', width: '58px', align: 'right', render: (m) => m.partition ?? '—' });
    cols.push(
      { id: 'time', header: 'Time', width: '148px', render: (m) => <span className="mono" title={formatTimestamp(m.timestamp)}>{formatShortTime(m.timestamp)}</span> },
      { id: 'key', header: 'Key', width: 'minmax(80px, 1fr)', render: (m) => (m.key === null ? <span className="muted">null</span> : <span className="mono" title={m.key}>{m.key}</span>) },
    );
    if (showDeadLetter) {
      cols.push(
        { id: 'origin', header: 'Origin', width: 'minmax(100px, 1fr)', render: (m) => <span className="mono">{m.deadLetter?.origin ?? '—'}</span> },
        { id: 'reason', header: 'Reason', width: 'minmax(120px, 1.4fr)', render: (m) => <span title={m.deadLetter?.reason ?? undefined}>{m.deadLetter?.reason ?? '—'}</span> },
        { id: 'attempts', header: 'Tries', width: '58px', align: 'right', render: (m) => m.deadLetter?.attempts ?? m.deliveryCount ?? '—' },
      );
    }
    cols.push(
      { id: 'value', header: 'Value', width: 'minmax(160px, 3fr)', render: (m) => <span className="mono muted">{previewPayload(m.valueBase64, 200)}</span> },
      { id: 'size', header: 'Size', width: '76px', align: 'right', render: (m) => formatBytes(m.size) },
    );
    return cols;
  }, [partitions, showDeadLetter, checked, onToggle]);
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
    />
  );
}
