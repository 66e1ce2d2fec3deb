export { KafkaAdapter, createKafkaAdapter } from './adapter';
export { fromKafkaEnv, DEFAULT_DEAD_LETTER_PATTERNS, type KafkaAdapterConfig } from './config';
export { DeadLetterNaming } from './dead-letters';
export { progressGroupOf } from './redrive';
export { SpringDlt } from './codec';
