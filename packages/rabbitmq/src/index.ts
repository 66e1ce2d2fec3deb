export { createRabbitMqAdapter, RabbitMqAdapter, rabbitMqCapabilities } from './adapter';
export { fromRabbitMqEnv, type RabbitMqConfig } from './config';
export { PEEK_WARNING } from './browse';
export { WireHeaders } from './codec';
