import type { Message as SqsMessage, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { fromBase64, toBase64, utf8 } from '@mailroom/core';

/**
 * How a Mailroom message is laid out on SQS.
 *
 * - Value: the body is the value's UTF-8 text when the value is valid UTF-8 that SQS accepts
 *   (any other SQS consumer reads it as is). Otherwise the body is the value in base64 and the
 *   attribute `mailroom-encoding` says `base64`; an empty value (SQS bodies cannot be empty) is
 *   the body "-" with `mailroom-encoding: empty`.
 * - Key: the String attribute `mailroom-key` (DataType `String.json` holding JSON when the key is
 *   empty or has characters SQS refuses). On FIFO queues the key is also the message group id.
 * - Headers: one String attribute each, when they all fit SQS's rules (at most 10 attributes in
 *   all, names of [A-Za-z0-9_.-], non-empty values). Otherwise all headers go together, as a
 *   JSON object, into the single attribute `mailroom-headers`; nothing is ever dropped.
 */
export const ATTR_KEY = 'mailroom-key';
export const ATTR_ENCODING = 'mailroom-encoding';
export const ATTR_HEADERS = 'mailroom-headers';
const RESERVED_PREFIX = 'mailroom-';
export const MAX_ATTRIBUTES = 10;
const EMPTY_BODY = '-';

/** Characters SQS refuses in bodies and String attributes (XML 1.0's excluded ranges). */
const SQS_INVALID_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
/** ignoreBOM: a leading U+FEFF is part of the value and must round-trip. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

export function sqsAcceptsText(text: string): boolean {
  return !SQS_INVALID_CHAR.test(text);
}

export function isValidAttributeName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 256 &&
    /^[A-Za-z0-9_.-]+$/.test(name) &&
    !name.startsWith('.') &&
    !name.endsWith('.') &&
    !name.includes('..') &&
    !/^(aws|amazon)\./i.test(name)
  );
}

/** JSON that SQS accepts: JSON.stringify leaves U+FFFE/U+FFFF raw, SQS refuses them. */
function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

export interface EncodedMessage {
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  /** What SQS counts against its size limit: body plus every attribute's name, type and value. */
  size: number;
}

export function byteLength(text: string): number {
  return encoder.encode(text).byteLength;
}

export function attributesSize(attributes: Record<string, MessageAttributeValue>): number {
  let size = 0;
  for (const [name, attribute] of Object.entries(attributes)) {
    size += byteLength(name) + byteLength(attribute.DataType ?? '');
    if (attribute.StringValue !== undefined) size += byteLength(attribute.StringValue);
    if (attribute.BinaryValue !== undefined) size += attribute.BinaryValue.byteLength;
  }
  return size;
}

function encodeValue(value: Uint8Array): { body: string; encoding: string | null } {
  if (value.byteLength === 0) return { body: EMPTY_BODY, encoding: 'empty' };
  let text: string | null = null;
  try {
    text = strictUtf8.decode(value);
  } catch {
    text = null;
  }
  if (text !== null && sqsAcceptsText(text)) return { body: text, encoding: null };
  return { body: toBase64(value), encoding: 'base64' };
}

export function encodeMessage(message: { key: string | null; value: Uint8Array; headers: Record<string, string> }): EncodedMessage {
  const { body, encoding } = encodeValue(message.value);
  const attributes: Record<string, MessageAttributeValue> = {};
  if (encoding !== null) attributes[ATTR_ENCODING] = { DataType: 'String', StringValue: encoding };
  if (message.key !== null) {
    attributes[ATTR_KEY] =
      message.key !== '' && sqsAcceptsText(message.key)
        ? { DataType: 'String', StringValue: message.key }
        : { DataType: 'String.json', StringValue: safeJson(message.key) };
  }
  const headers = Object.entries(message.headers);
  const native =
    Object.keys(attributes).length + headers.length <= MAX_ATTRIBUTES &&
    headers.every(
      ([name, value]) => isValidAttributeName(name) && !name.toLowerCase().startsWith(RESERVED_PREFIX) && value !== '' && sqsAcceptsText(value),
    );
  if (native) {
    for (const [name, value] of headers) attributes[name] = { DataType: 'String', StringValue: value };
  } else {
    attributes[ATTR_HEADERS] = { DataType: 'String.json', StringValue: safeJson(message.headers) };
  }
  return { body, attributes, size: byteLength(body) + attributesSize(attributes) };
}

export interface DecodedMessage {
  key: string | null;
  value: Uint8Array;
  headers: Record<string, string>;
  /** Set when the message carried something Mailroom could not read as written (shown, not thrown). */
  problem: string | null;
}

function attributeText(attribute: MessageAttributeValue): string {
  if (attribute.StringValue !== undefined) return attribute.StringValue;
  if (attribute.BinaryValue !== undefined) return toBase64(attribute.BinaryValue);
  return '';
}

/** Reads any SQS message: Mailroom's layout, and plain messages from other producers. */
export function decodeMessage(message: SqsMessage): DecodedMessage {
  const attributes = message.MessageAttributes ?? {};
  const body = message.Body ?? '';
  let problem: string | null = null;
  const encoding = attributes[ATTR_ENCODING]?.StringValue;
  let value: Uint8Array;
  if (encoding === 'empty') value = new Uint8Array(0);
  else if (encoding === 'base64') {
    try {
      value = fromBase64(body);
    } catch {
      problem = 'mailroom-encoding says base64 but the body is not base64; showing the body as text';
      value = utf8(body);
    }
  } else value = utf8(body);

  let key: string | null = null;
  const keyAttribute = attributes[ATTR_KEY];
  if (keyAttribute !== undefined) {
    if (keyAttribute.DataType === 'String.json') {
      try {
        const parsed: unknown = JSON.parse(keyAttribute.StringValue ?? '');
        key = typeof parsed === 'string' ? parsed : String(parsed);
      } catch {
        problem = 'mailroom-key is not valid JSON';
        key = keyAttribute.StringValue ?? null;
      }
    } else key = attributeText(keyAttribute);
  }

  const headers: Record<string, string> = {};
  for (const [name, attribute] of Object.entries(attributes)) {
    if (name === ATTR_KEY || name === ATTR_ENCODING || name === ATTR_HEADERS) continue;
    headers[name] = attributeText(attribute);
  }
  const packed = attributes[ATTR_HEADERS]?.StringValue;
  if (packed !== undefined) {
    try {
      const parsed: unknown = JSON.parse(packed);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        for (const [name, v] of Object.entries(parsed)) headers[name] = typeof v === 'string' ? v : JSON.stringify(v);
      } else problem = 'mailroom-headers is not a JSON object';
    } catch {
      problem = 'mailroom-headers is not valid JSON';
    }
  }
  return { key, value, headers, problem };
}
