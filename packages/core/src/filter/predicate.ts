import type { StoredMessage } from '../admin';

/** A compiled message filter. Built by `compileFilter`, never from code the user wrote. */
export type MessagePredicate = (message: StoredMessage) => boolean;
