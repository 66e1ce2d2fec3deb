import { InvalidInputError } from './errors';
import { fromBase64, fromUtf8, toBase64, utf8 } from './bytes';

/** Cursors are opaque to callers: base64url of JSON. */
export function encodeCursor(state: unknown): string {
  return toBase64(utf8(JSON.stringify(state))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function decodeCursor(cursor: string): unknown {
  try {
    const b64 = cursor.replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(fromUtf8(fromBase64(b64 + '='.repeat((4 - (b64.length % 4)) % 4))));
  } catch {
    throw new InvalidInputError('The page cursor is not valid; start browsing again from the newest message.');
  }
}
