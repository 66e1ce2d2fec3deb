export { MemoryAdapter, createMemoryAdapter, type MemoryAdapterOptions } from './adapter';
export { MemoryBroker, type MemoryBrokerOptions } from './broker';
export { DESTINATION_NAME_RULES } from './names';
export { DLQ_SUFFIX } from './dead-letter-links';
export { startDemoTraffic, DEMO_TOPICS, BROKEN_SKU, type DemoTraffic, type DemoTrafficOptions } from './demo';
