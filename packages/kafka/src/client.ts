import { Kafka, Partitioners, logLevel, type Producer, type KafkaConfig } from 'kafkajs';
import type { ResolvedKafkaConfig } from './config';

/** kafkajs logs to the console by default; Mailroom forwards only errors, and only to `onLog`. */
export function createKafka(config: ResolvedKafkaConfig): Kafka {
  const options: KafkaConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.ssl,
    connectionTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    enforceRequestTimeout: true,
    // Few quick retries: a dead broker must surface as an error within seconds, not minutes.
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: config.onLog ? logLevel.ERROR : logLevel.NOTHING,
    logCreator: () => (entry) => {
      config.onLog?.({ level: String(entry.label), namespace: entry.namespace, message: entry.log.message });
    },
  };
  if (config.sasl) options.sasl = config.sasl as KafkaConfig['sasl'];
  return new Kafka(options);
}

export interface ProducerFlavour {
  idempotent: boolean;
  transactionalId?: string;
}

export function createKafkaProducer(kafka: Kafka, flavour: ProducerFlavour): Producer {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    idempotent: flavour.idempotent || flavour.transactionalId !== undefined,
    // An idempotent producer keeps order only with one request in flight per broker (kafkajs).
    maxInFlightRequests: flavour.idempotent || flavour.transactionalId !== undefined ? 1 : 5,
    ...(flavour.transactionalId !== undefined ? { transactionalId: flavour.transactionalId, transactionTimeout: 60_000 } : {}),
  });
}
