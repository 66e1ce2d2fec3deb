import { RabbitMqKit } from '../src/brokers/rabbitmq';
import { defineBrokerJourneys } from '../src/journeys';

defineBrokerJourneys('rabbitmq', () => new RabbitMqKit());
