import { SqsKit } from '../src/brokers/sqs';
import { defineBrokerJourneys } from '../src/journeys';

defineBrokerJourneys('sqs', () => new SqsKit());
