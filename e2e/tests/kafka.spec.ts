import { KafkaKit } from '../src/brokers/kafka';
import { defineBrokerJourneys } from '../src/journeys';

defineBrokerJourneys('kafka', () => new KafkaKit());
