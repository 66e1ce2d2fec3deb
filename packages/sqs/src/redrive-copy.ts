import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import { ATTR_ENCODING, ATTR_HEADERS, ATTR_KEY, MAX_ATTRIBUTES, attributesSize, byteLength, decodeMessage, encodeMessage } from './codec';
import { isFifoName } from './names';
import { groupIdForKey, type OutgoingMessage } from './send';

const MAILROOM_ATTRIBUTES = new Set([ATTR_KEY, ATTR_ENCODING, ATTR_HEADERS]);

/**
 * The copy of a dead letter that a manual redrive sends: same body, key and headers plus the
 * redrive headers. Messages whose attributes are all strings (Mailroom's, and most others) are
 * re-encoded; messages with typed attributes of another producer (Number, Binary) keep their
 * attributes exactly, and get the redrive headers only while SQS's 10-attribute limit allows.
 */
export function redriveCopy(message: SqsMessage, target: string, extraHeaders: Record<string, string>): OutgoingMessage {
  const attributes = message.MessageAttributes ?? {};
  const typed = Object.entries(attributes).some(([name, a]) => !MAILROOM_ATTRIBUTES.has(name) && a.DataType !== 'String');
  const decoded = decodeMessage(message);
  let out: OutgoingMessage;
  if (!typed) {
    out = { ...encodeMessage({ key: decoded.key, value: decoded.value, headers: { ...decoded.headers, ...extraHeaders } }) };
  } else {
    const copy = { ...attributes };
    const extra = Object.entries(extraHeaders);
    if (Object.keys(copy).length + extra.length <= MAX_ATTRIBUTES) {
      for (const [name, value] of extra) copy[name] = { DataType: 'String', StringValue: value };
    }
    const body = message.Body ?? '';
    out = { body, attributes: copy, size: byteLength(body) + attributesSize(copy) };
  }
  if (isFifoName(target)) {
    out.groupId = message.Attributes?.MessageGroupId ?? groupIdForKey(decoded.key);
    // The source message id: a copy sent twice (a retried or resumed redrive) is deduplicated by SQS for 5 minutes.
    out.deduplicationId = message.MessageId ?? message.Attributes?.MessageDeduplicationId ?? '';
  }
  return out;
}
