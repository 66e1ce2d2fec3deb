export { RedisAdapter, createRedisAdapter, REDIS_CAPABILITIES } from './adapter';
export { fromRedisEnv, type RedisAdapterConfig } from './config';
export { Field } from './codec';
export { RELEASED_CONSUMER } from './consumer';
export { DeadLetterConvention, STREAM_NAME_RULES } from './names';
