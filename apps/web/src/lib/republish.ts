import type { WireMessage } from '../api/types';
import { decodePayload } from './payload';

export interface PublishDraft {
  destination: string;
  key: string;
  headers: { name: string; value: string }[];
  encoding: 'json' | 'text' | 'base64';
  value: string;
  partition: string;
  sourceId: string | null;
}

const KEY = 'mailroom.republish';

export function emptyDraft(destination: string): PublishDraft {
  return { destination, key: '', headers: [], encoding: 'json', value: '{\n  \n}', partition: '', sourceId: null };
}

/** The publish form prefilled from an existing message: same key, headers and bytes. */
export function draftFromMessage(m: WireMessage): PublishDraft {
  const p = decodePayload(m.valueBase64);
  const encoding = p.kind === 'json' ? 'json' : p.kind === 'binary' ? 'base64' : 'text';
  return {
    // A dead letter is re-published to where it failed, not back into its DLQ.
    destination: m.deadLetter?.origin ?? m.destination,
    key: m.key ?? '',
    headers: Object.entries(m.headers).map(([name, value]) => ({ name, value })),
    encoding,
    // JSON is sent as written: keep the original text, not a re-serialisation.
    value: encoding === 'base64' ? m.valueBase64 : (p.text ?? ''),
    partition: m.partition === null ? '' : String(m.partition),
    sourceId: m.id,
  };
}

export function saveRepublishDraft(m: WireMessage): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(draftFromMessage(m)));
  } catch {
    // Storage full or disabled: the form opens empty.
  }
}

export function takeRepublishDraft(sourceId: string | null): PublishDraft | null {
  if (sourceId === null) return null;
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw === null) return null;
    const d = JSON.parse(raw) as PublishDraft;
    return d.sourceId === sourceId ? d : null;
  } catch {
    return null;
  }
}

/** Where JSON text fails to parse, as "line L, column C: message". */
export function jsonError(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const m = /position (\d+)/.exec(message);
    if (m === null) return message;
    const pos = Number(m[1]);
    const before = text.slice(0, pos).split('\n');
    return `line ${before.length}, column ${(before[before.length - 1]?.length ?? 0) + 1}: ${message.replace(/ in JSON at position \d+.*$/, '')}`;
  }
}

export function base64Error(text: string): string | null {
  const clean = text.replace(/\s+/g, '');
  return clean.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(clean) ? null : 'Not valid base64 (A–Z, a–z, 0–9, +, /, padded with = to a multiple of 4).';
}
