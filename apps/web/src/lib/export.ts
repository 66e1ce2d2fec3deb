import type { WireMessage } from '../api/types';
import { decodePayload } from './payload';

export interface ExportRow {
  id: string;
  destination: string;
  partition: number | null;
  position: string | null;
  key: string | null;
  timestamp: string;
  size: number;
  headers: Record<string, string>;
  /** 'utf8' when the value is text, 'base64' for binary. */
  encoding: 'utf8' | 'base64';
  value: string;
  truncated: boolean;
  deadLetter: WireMessage['deadLetter'];
}

export function toExportRow(m: WireMessage): ExportRow {
  const p = decodePayload(m.valueBase64);
  const isText = p.kind !== 'binary';
  return {
    id: m.id,
    destination: m.destination,
    partition: m.partition,
    position: m.position,
    key: m.key,
    timestamp: m.timestamp,
    size: m.size,
    headers: m.headers,
    encoding: isText ? 'utf8' : 'base64',
    value: isText ? (p.text ?? '') : m.valueBase64,
    truncated: m.truncated,
    deadLetter: m.deadLetter,
  };
}

export function messagesToJson(messages: WireMessage[]): string {
  return `${JSON.stringify(messages.map(toExportRow), null, 2)}\n`;
}

const CSV_COLUMNS = ['id', 'destination', 'partition', 'position', 'key', 'timestamp', 'size', 'encoding', 'value', 'headers', 'truncated', 'dlq_origin', 'dlq_reason', 'dlq_attempts'] as const;

/** RFC 4180 quoting, plus a leading quote on cells a spreadsheet would run as a formula. */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function messagesToCsv(messages: WireMessage[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const m of messages) {
    const r = toExportRow(m);
    const cells: (string | number | boolean | null)[] = [
      r.id, r.destination, r.partition, r.position, r.key, r.timestamp, r.size, r.encoding, r.value,
      JSON.stringify(r.headers), r.truncated, r.deadLetter?.origin ?? null, r.deadLetter?.reason ?? null, r.deadLetter?.attempts ?? null,
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function downloadText(filename: string, text: string, mime: string): void {
  const blob = new Blob([text], { type: mime });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export function exportFilename(destination: string, ext: 'json' | 'csv', now = new Date()): string {
  const safe = destination.replace(/[^A-Za-z0-9._-]+/g, '_');
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return `${safe}-${stamp}.${ext}`;
}
