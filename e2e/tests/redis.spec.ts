import { RedisKit } from '../src/brokers/redis';
import { defineBrokerJourneys } from '../src/journeys';

defineBrokerJourneys('redis', () => new RedisKit());
