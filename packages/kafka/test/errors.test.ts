import { describe, expect, it } from 'vitest';
import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { BrokerUnavailableError } from '@mailroom/core';
import { retryWhileCoordinatorMoves, toMailroomError } from '../src/errors';

// kafkajs's own error objects, as its admin client throws them when the group coordinator moves
// (its typings take an Error; at runtime it reads type, code and retriable from the error entry).
const protocolError = (type: string, code: number, message: string) => new KafkaJSProtocolError(Object.assign(new Error(message), { type, code, retriable: true }));
const notCoordinator = () => protocolError('NOT_COORDINATOR_FOR_GROUP', 16, 'This is not the correct coordinator for this group');
const loading = () => protocolError('GROUP_LOAD_IN_PROGRESS', 14, "The coordinator is loading and hence can't process requests for this group");

describe('coordinator moves', () => {
  it('maps kafkajs coordinator errors (wrapped or not) to BrokerUnavailableError', () => {
    for (const error of [notCoordinator(), loading()]) {
      const mapped = toMailroomError(error, 'positioning consumer group g');
      expect(mapped).toBeInstanceOf(BrokerUnavailableError);
      expect(mapped.message).toMatch(/^Kafka: positioning consumer group g failed: the broker is unreachable or not ready/);
    }
    expect(toMailroomError(new KafkaJSNonRetriableError(notCoordinator()), 'x')).toBeInstanceOf(BrokerUnavailableError);
  });

  it('asks again while the coordinator moves, and gives up on anything else at once', async () => {
    let calls = 0;
    const answer = await retryWhileCoordinatorMoves(async () => {
      calls++;
      if (calls < 3) throw calls === 1 ? loading() : notCoordinator();
      return 'offsets';
    }, 6, 1);
    expect(answer).toBe('offsets');
    expect(calls).toBe(3);

    let other = 0;
    const unknownTopic = protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3, 'no such topic');
    await expect(retryWhileCoordinatorMoves(async () => {
      other++;
      throw unknownTopic;
    }, 6, 1)).rejects.toBe(unknownTopic);
    expect(other).toBe(1);

    let always = 0;
    await expect(retryWhileCoordinatorMoves(async () => {
      always++;
      throw notCoordinator();
    }, 4, 1)).rejects.toMatchObject({ type: 'NOT_COORDINATOR_FOR_GROUP' });
    expect(always).toBe(4);
  });
});
