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

/**
 * Index of the first character where `text` stops being valid JSON (engines disagree on whether
 * their message carries a position, so this finds it itself). -1 when it is valid.
 */
export function jsonErrorIndex(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    for (const ch of word) if (text[i++] !== ch) { i--; fail(); }
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) { i++; fail(); }
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (m === null || m[0] === '' || m[0] === '-') fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail();
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else fail();
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (at) {
    return typeof at === 'number' ? at : 0;
  }
}

/** Where JSON text fails to parse, as "line L, column C: what". Null when it parses. */
export function jsonError(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (e) {
    const index = jsonErrorIndex(text);
    const at = index < 0 ? text.length : index;
    const before = text.slice(0, at).split('\n');
    const found = at >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[at])}`;
    void e;
    return `line ${before.length}, column ${(before[before.length - 1]?.length ?? 0) + 1}: ${found}`;
  }
}

export function base64Error(text: string): string | null {
  const clean = text.replace(/\s+/g, '');
  return clean.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(clean) ? null : 'Not valid base64 (A–Z, a–z, 0–9, +, /, padded with = to a multiple of 4).';
}
