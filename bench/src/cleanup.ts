/**
 * Deletes everything a benchmark run may have left behind after it was interrupted: Kafka
 * topics and groups, RabbitMQ queues, exchanges and shovels, Redis keys and SQS queues whose
 * names start with `mr-bench-` (and nothing else). Do not run it while a benchmark runs.
 *
 * Usage: tsx src/cleanup.ts
 */
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { endpointsFromEnv } from './config';
import { deleteGroups, deleteTopics, kafkaClient } from './raw/kafka';
import { management, vhostOf } from './raw/rabbitmq';
import { deleteMatching, redisClient } from './raw/redis';
import { deleteQueues, sqsClient } from './raw/sqs';

export const PREFIX = 'mr-bench-';

async function main(): Promise<void> {
  const e = endpointsFromEnv();
  const kafka = kafkaClient(e);
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(PREFIX));
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(PREFIX));
  await admin.disconnect();
  await deleteGroups(kafka, groups);
  await deleteTopics(kafka, topics);
  console.log(`kafka: ${topics.length} topics, ${groups.length} groups`);

  const vhost = encodeURIComponent(vhostOf(e));
  const queues = ((await management(e, 'GET', `/queues/${vhost}?columns=name`)) as { name: string }[]).filter((q) => q.name.startsWith(PREFIX));
  for (const q of queues) await management(e, 'DELETE', `/queues/${vhost}/${encodeURIComponent(q.name)}`).catch(() => undefined);
  const exchanges = ((await management(e, 'GET', `/exchanges/${vhost}?columns=name`)) as { name: string }[]).filter((x) => x.name.startsWith(PREFIX));
  for (const x of exchanges) await management(e, 'DELETE', `/exchanges/${vhost}/${encodeURIComponent(x.name)}`).catch(() => undefined);
  const shovels = ((await management(e, 'GET', `/parameters/shovel/${vhost}`).catch(() => [])) as { name: string }[]).filter((p) => p.name.startsWith(PREFIX));
  for (const p of shovels) await management(e, 'DELETE', `/parameters/shovel/${vhost}/${encodeURIComponent(p.name)}`).catch(() => undefined);
  console.log(`rabbitmq: ${queues.length} queues, ${exchanges.length} exchanges, ${shovels.length} shovels`);

  const redis = redisClient(e);
  console.log(`redis: ${await deleteMatching(redis, `${PREFIX}*`)} keys`);
  redis.disconnect();

  const sqs = sqsClient(e);
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const out = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: PREFIX, MaxResults: 1000, ...(token ? { NextToken: token } : {}) }));
    urls.push(...(out.QueueUrls ?? []));
    token = out.NextToken;
  } while (token);
  await deleteQueues(sqs, urls.map((u) => u.slice(u.lastIndexOf('/') + 1)));
  console.log(`sqs: ${urls.length} queues`);
  sqs.destroy();
}

main().catch((error: unknown) => {
  console.error(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
