// Which kafkajs 2.2.4 operations work against the broker at KAFKA_BROKERS (Kafka 4.x by
// default; run with a 3.9.x broker to compare). Findings are recorded in infra/README.md.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigResourceTypes, Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { KAFKA_BROKERS, uniqueName } from './endpoints';
import { brokerApiVersions, kafkajsApis, versionKafkajsSends } from './kafka-api-versions';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

type Received = { partition: number; offset: string; value: string };

describe('kafkajs 2.2.4 compatibility', () => {
  const kafka = new Kafka({
    clientId: 'mailroom-infra-compat',
    brokers: KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
    retry: { retries: 5 },
  });
  const topic = uniqueName('compat');
  const txTopic = uniqueName('compat-tx');
  const groupId = uniqueName('compat-group');
  const txOffsetsGroup = uniqueName('compat-txgroup');
  const scratchGroups: string[] = [];
  let admin: Admin;
  const producers: Producer[] = [];

  async function consume(opts: {
    topic: string;
    groupId?: string;
    until: (got: Received[]) => boolean;
    readUncommitted?: boolean;
  }): Promise<Received[]> {
    const gid = opts.groupId ?? uniqueName('compat-scratch');
    if (!opts.groupId) scratchGroups.push(gid);
    const consumer = kafka.consumer({
      groupId: gid,
      maxWaitTimeInMs: 200,
      readUncommitted: opts.readUncommitted ?? false,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: opts.topic, fromBeginning: true });
      const got: Received[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; received ${JSON.stringify(got)}`)), 30_000);
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              got.push({ partition, offset: message.offset, value: message.value?.toString() ?? '' });
              if (opts.until(got)) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
      return got;
    } finally {
      await consumer.disconnect();
    }
  }

  const byPartitionOffset = (a: Received, b: Received) => a.partition - b.partition || Number(a.offset) - Number(b.offset);

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.allSettled(producers.map((p) => p.disconnect()));
    await admin.deleteGroups([groupId, txOffsetsGroup, ...scratchGroups]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic, txTopic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('the broker serves every API kafkajs implements at the version kafkajs sends', async () => {
    const broker = await brokerApiVersions(KAFKA_BROKERS[0] ?? '127.0.0.1:9092');
    const gaps = kafkajsApis()
      .map((api) => {
        const range = broker.get(api.apiKey);
        if (!range) return `${api.name}: not offered by the broker`;
        const sent = versionKafkajsSends(api, range);
        return sent < range.min ? `${api.name}: kafkajs sends v${sent}, broker accepts v${range.min}-${range.max}` : null;
      })
      .filter((gap) => gap !== null);
    expect(gaps).toEqual([]);
  });

  it('admin: createTopics, listTopics, fetchTopicMetadata', async () => {
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }, { topic: txTopic }], waitForLeaders: true })).toBe(true);
    expect(await admin.listTopics()).toEqual(expect.arrayContaining([topic, txTopic]));
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(topics[0]?.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1]);
    expect(topics[0]?.partitions.every((p) => p.leader >= 0 && p.partitionErrorCode === 0)).toBe(true);
  });

  it('idempotent producer writes; fetchTopicOffsets reports the exact watermarks', async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    producers.push(producer);
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { partition: 0, key: 'k', value: 'a' },
        { partition: 0, key: 'k', value: 'b' },
        { partition: 1, key: 'j', value: 'c' },
      ],
    });
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.sort((x, y) => x.partition - y.partition)).toEqual([
      { partition: 0, offset: '2', high: '2', low: '0' },
      { partition: 1, offset: '1', high: '1', low: '0' },
    ]);
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - 60_000);
    expect(byTime.sort((x, y) => x.partition - y.partition)).toEqual([
      { partition: 0, offset: '0' },
      { partition: 1, offset: '0' },
    ]);
  });

  it('consumer group (classic protocol) consumes everything and commits; fetchOffsets sees the commits', async () => {
    const got = await consume({ topic, groupId, until: (g) => g.length === 3 });
    expect(got.sort(byPartitionOffset)).toEqual([
      { partition: 0, offset: '0', value: 'a' },
      { partition: 0, offset: '1', value: 'b' },
      { partition: 1, offset: '0', value: 'c' },
    ]);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed?.partitions.sort((x, y) => x.partition - y.partition)).toEqual([
      { partition: 0, offset: '2', metadata: null },
      { partition: 1, offset: '1', metadata: null },
    ]);
  });

  it('describeGroups and listGroups see the group, Empty once its consumer left', async () => {
    const { groups } = await admin.describeGroups([groupId]);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ groupId, state: 'Empty', protocolType: 'consumer', members: [] });
    const listed = await admin.listGroups();
    expect(listed.groups).toContainEqual({ groupId, protocolType: 'consumer' });
  });

  it('setOffsets and resetOffsets move an empty group; the next consumer starts there', async () => {
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }, { partition: 1, offset: '0' }] });
    const [afterSet] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(afterSet?.partitions.sort((x, y) => x.partition - y.partition).map((p) => p.offset)).toEqual(['1', '0']);
    const resumed = await consume({ topic, groupId, until: (g) => g.length === 2 });
    expect(resumed.sort(byPartitionOffset)).toEqual([
      { partition: 0, offset: '1', value: 'b' },
      { partition: 1, offset: '0', value: 'c' },
    ]);

    await admin.resetOffsets({ groupId, topic, earliest: true });
    // kafkajs commits the sentinel -2 ("earliest") itself, not a resolved offset.
    const [afterReset] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(afterReset?.partitions.map((p) => p.offset)).toEqual(['-2', '-2']);
    const replayed = await consume({ topic, groupId, until: (g) => g.length === 3 });
    expect(replayed.map((r) => r.value).sort()).toEqual(['a', 'b', 'c']);
  });

  it('describeConfigs and alterConfigs on topic and broker resources', async () => {
    const read = async () =>
      (
        await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'retention.ms'] }],
        })
      ).resources[0]?.configEntries.map((e) => [e.configName, e.configValue]);
    expect(await read()).toEqual(expect.arrayContaining([['cleanup.policy', 'delete'], ['retention.ms', '604800000']]));
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
    });
    expect(await read()).toEqual(expect.arrayContaining([['retention.ms', '3600000']]));

    const broker = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configNames: ['auto.create.topics.enable'] }],
    });
    expect(broker.resources[0]?.configEntries.map((e) => e.configValue)).toEqual(['false']);
  });

  it('createPartitions and deleteTopicRecords', async () => {
    await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(topics[0]?.partitions).toHaveLength(3);
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '1' }] });
    const p0 = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === 0);
    expect(p0).toEqual({ partition: 0, offset: '2', high: '2', low: '1' });
  });

  it('transactions: commit is visible, abort is not (read_committed), sendOffsets commits the group', async () => {
    const producer = kafka.producer({
      transactionalId: uniqueName('compat-txid'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    producers.push(producer);
    await producer.connect();

    const t1 = await producer.transaction();
    await t1.send({ topic: txTopic, messages: [{ value: 'committed-1' }] });
    await t1.sendOffsets({
      consumerGroupId: txOffsetsGroup,
      topics: [{ topic, partitions: [{ partition: 0, offset: '1' }] }],
    });
    await t1.commit();

    const t2 = await producer.transaction();
    await t2.send({ topic: txTopic, messages: [{ value: 'aborted-1' }] });
    await t2.abort();

    const t3 = await producer.transaction();
    await t3.send({ topic: txTopic, messages: [{ value: 'committed-2' }] });
    await t3.commit();

    // Three records and three transaction markers; the coordinator writes the markers after EndTxn
    // has answered, so the end offset gets there a moment later.
    const deadline = Date.now() + 10_000;
    let offsets = await admin.fetchTopicOffsets(txTopic);
    while (offsets[0]?.high !== '6' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      offsets = await admin.fetchTopicOffsets(txTopic);
    }
    expect(offsets).toEqual([{ partition: 0, offset: '6', high: '6', low: '0' }]);

    const committedOnly = await consume({ topic: txTopic, until: (g) => g.some((r) => r.value === 'committed-2') });
    expect(committedOnly).toEqual([
      { partition: 0, offset: '0', value: 'committed-1' },
      { partition: 0, offset: '4', value: 'committed-2' },
    ]);
    const everything = await consume({
      topic: txTopic,
      readUncommitted: true,
      until: (g) => g.some((r) => r.value === 'committed-2'),
    });
    expect(everything.map((r) => r.value)).toEqual(['committed-1', 'aborted-1', 'committed-2']);

    const [txOffsets] = await admin.fetchOffsets({ groupId: txOffsetsGroup, topics: [topic] });
    expect(txOffsets?.partitions.find((p) => p.partition === 0)?.offset).toBe('1');
  });

  it('deleteGroups and deleteTopics remove what the test made', async () => {
    const groups = [groupId, txOffsetsGroup, ...scratchGroups];
    const deleted = await admin.deleteGroups(groups);
    expect(deleted.map((d) => d.errorCode)).toEqual(groups.map(() => 0));
    const { groups: described } = await admin.describeGroups([groupId]);
    expect(described[0]?.state).toBe('Dead');
    await admin.deleteTopics({ topics: [topic, txTopic] });
    // Deletion completes asynchronously in the controller: the metadata stops listing the topics shortly after.
    const deadline = Date.now() + 30_000;
    let remaining = await admin.listTopics();
    while ((remaining.includes(topic) || remaining.includes(txTopic)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      remaining = await admin.listTopics();
    }
    expect(remaining).not.toContain(topic);
    expect(remaining).not.toContain(txTopic);
  });
});
