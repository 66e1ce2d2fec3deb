import { fromBase64, tryDecodeUtf8 } from '@mailroom/core';

export type PayloadKind = 'json' | 'text' | 'binary' | 'empty';

export interface DecodedPayload {
  kind: PayloadKind;
  bytes: Uint8Array;
  /** UTF-8 text when the bytes are valid UTF-8. */
  text: string | null;
  /** Parsed JSON when the text is a JSON object or array (scalars are shown as text). */
  json: unknown;
}

/** Control characters other than tab/newline/CR mark a payload as binary even if it decodes. */
// eslint-disable-next-line no-control-regex -- detecting control bytes is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export function decodePayload(valueBase64: string): DecodedPayload {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(valueBase64);
  } catch {
    bytes = new Uint8Array();
  }
  if (bytes.byteLength === 0) return { kind: 'empty', bytes, text: '', json: undefined };
  const text = tryDecodeUtf8(bytes);
  if (text === null || CONTROL.test(text)) return { kind: 'binary', bytes, text, json: undefined };
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { kind: 'json', bytes, text, json: JSON.parse(text) };
    } catch {
      // Looks like JSON but is not: show it as text.
    }
  }
  return { kind: 'text', bytes, text, json: undefined };
}

/** One-line preview for tables: compact JSON, text, or a hex prefix for binary. */
export function previewPayload(valueBase64: string, max = 160): string {
  const p = decodePayload(valueBase64);
  switch (p.kind) {
    case 'empty':
      return '(empty)';
    case 'binary': {
      const head = Array.from(p.bytes.subarray(0, Math.min(24, p.bytes.byteLength)), (b) => b.toString(16).padStart(2, '0')).join(' ');
      return `0x ${head}${p.bytes.byteLength > 24 ? ' …' : ''}`;
    }
    case 'json': {
      const s = JSON.stringify(p.json);
      return s.length > max ? `${s.slice(0, max)}…` : s;
    }
    default: {
      const s = (p.text ?? '').replace(/\s+/g, ' ');
      return s.length > max ? `${s.slice(0, max)}…` : s;
    }
  }
}

/** Classic hex dump: offset, 16 bytes in hex, printable ASCII. */
export function hexDump(bytes: Uint8Array, maxBytes = bytes.byteLength): { offset: string; hex: string; ascii: string }[] {
  const rows: { offset: string; hex: string; ascii: string }[] = [];
  const end = Math.min(bytes.byteLength, maxBytes);
  for (let i = 0; i < end; i += 16) {
    const slice = bytes.subarray(i, Math.min(i + 16, end));
    const hexParts: string[] = [];
    let ascii = '';
    for (let j = 0; j < 16; j++) {
      const b = slice[j];
      hexParts.push(b === undefined ? '  ' : b.toString(16).padStart(2, '0'));
      if (b !== undefined) ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    rows.push({
      offset: i.toString(16).padStart(8, '0'),
      hex: `${hexParts.slice(0, 8).join(' ')}  ${hexParts.slice(8).join(' ')}`,
      ascii,
    });
  }
  return rows;
}

export type JsonToken = { t: 'k' | 's' | 'n' | 'l' | 'p'; v: string };

/**
 * Pretty-prints JSON as tokens for highlighting, without innerHTML: keys, strings,
 * numbers, literals (true/false/null) and punctuation/whitespace.
 */
export function jsonTokens(value: unknown): JsonToken[] {
  const pretty = JSON.stringify(value, null, 2) ?? 'undefined';
  const tokens: JsonToken[] = [];
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g;
  let last = 0;
  for (let m = re.exec(pretty); m !== null; m = re.exec(pretty)) {
    if (m.index > last) tokens.push({ t: 'p', v: pretty.slice(last, m.index) });
    if (m[1] !== undefined) {
      if (m[2] !== undefined) {
        tokens.push({ t: 'k', v: m[1] });
        tokens.push({ t: 'p', v: m[2] });
      } else tokens.push({ t: 's', v: m[1] });
    } else if (m[3] !== undefined) tokens.push({ t: 'n', v: m[3] });
    else if (m[4] !== undefined) tokens.push({ t: 'l', v: m[4] });
    last = re.lastIndex;
  }
  if (last < pretty.length) tokens.push({ t: 'p', v: pretty.slice(last) });
  return tokens;
}
