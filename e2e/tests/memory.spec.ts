import { serverApi } from '../src/api';
import { MemoryKit } from '../src/brokers/memory';
import { defineBrokerJourneys } from '../src/journeys';

defineBrokerJourneys('memory', () => new MemoryKit(serverApi()));
