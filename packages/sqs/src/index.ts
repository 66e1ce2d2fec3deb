export { SqsAdapter, createSqsAdapter, sqsCapabilities } from './adapter';
export { fromSqsEnv, SQS_DEFAULT_MAX_MESSAGE_BYTES, type SqsAdapterConfig } from './config';
export { PartialBatchError, type BatchEntryFailure } from './errors';
export { ATTR_ENCODING, ATTR_HEADERS, ATTR_KEY, decodeMessage, encodeMessage } from './codec';
export { PEEK_WARNING } from './peek';
