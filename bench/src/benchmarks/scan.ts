import { scaled, type Broker } from '../config';
import { forEachBroker, ratioOf, type BenchContext } from '../context';
import { mailroomClient, type MailroomClient } from '../client';
import { uniqueName } from '../names';
import { SCAN_FILTER, isNeedle, messageValue, rawMatches } from '../payload';
import { consumeRange, createTopics, deleteGroups, deleteTopics, highWatermarks, kafkaClient, produceCount, rawProducer } from '../raw/kafka';
import { fillStream, redisClient } from '../raw/redis';
import { ServerProcess } from '../server-process';
import { perSecond } from '../stats';

export const SCAN_FULL = 1_000_000;
/** One message in this many matches the filter. */
export const NEEDLE_EVERY = 1_000;
const KAFKA_SCAN_PARTITIONS = 3;
const PAGE_LIMIT = 500;

interface ScanOutcome {
  ms: number;
  scanned: number;
  matched: number;
  requests: number;
}

/** Pages through the whole destination with the filter, as the UI's "load more" does. */
async function scanThroughServer(client: MailroomClient, connectionId: string, destination: string): Promise<ScanOutcome> {
  const started = performance.now();
  let cursor: string | null = null;
  let scanned = 0;
  let matched = 0;
  let requests = 0;
  do {
    const page: Awaited<ReturnType<MailroomClient['messages']['browse']['query']>> = await client.messages.browse.query({
      connectionId,
      destination,
      start: { from: 'oldest' },
      cursor,
      limit: PAGE_LIMIT,
      filter: SCAN_FILTER,
    });
    requests++;
    scanned += page.scanned;
    matched += page.messages.length;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return { ms: performance.now() - started, scanned, matched, requests };
}

function expectedMatches(count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) if (isNeedle(i, NEEDLE_EVERY)) n++;
  return n;
}

/**
 * Filtered scan: browse with a filter (`json.kind == "needle"`, 1 in 1,000 matches) over every
 * record of a Kafka topic and a Redis stream, page after page through the server, against a
 * raw consumer reading the same range and applying the same test.
 */
export async function runScan(ctx: BenchContext): Promise<void> {
  const { config } = ctx;
  const count = scaled(config, SCAN_FULL, 10_000);
  const expected = expectedMatches(count);
  const brokers: Broker[] = ['kafka', 'redis'];
  await forEachBroker(ctx, 'scan', brokers, async (broker) => {
    const name = uniqueName('scan');
    let raw: { ms: number; matched: number; label: string };
    let remove: () => Promise<void>;
    const fillStarted = performance.now();
    if (broker === 'kafka') {
      const kafka = kafkaClient(config.endpoints);
      await createTopics(kafka, [{ topic: name, partitions: KAFKA_SCAN_PARTITIONS }]);
      remove = () => deleteTopics(kafka, [name]);
      const producer = rawProducer(kafka);
      await producer.connect();
      await produceCount(producer, name, count, (n) => messageValue(n, { needleEvery: NEEDLE_EVERY }));
      await producer.disconnect();
      ctx.log(`  filled ${count} records in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);
      const ends = await highWatermarks(kafka, name);
      const group = `${name}-raw`;
      let matched = 0;
      const started = performance.now();
      await consumeRange(kafka, name, group, ends, (values) => {
        for (const v of values) if (rawMatches(v)) matched++;
      });
      raw = { ms: performance.now() - started, matched, label: 'kafkajs consumer, eachBatch, JSON.parse' };
      await deleteGroups(kafka, [group]);
    } else {
      const redis = redisClient(config.endpoints);
      remove = async () => {
        await redis.unlink(name);
        redis.disconnect();
      };
      await fillStream(redis, name, count, (n) => messageValue(n, { needleEvery: NEEDLE_EVERY }));
      ctx.log(`  filled ${count} entries in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);
      let matched = 0;
      let after = '-';
      const started = performance.now();
      for (;;) {
        const entries = await redis.xrangeBuffer(name, after, '+', 'COUNT', 1000);
        for (const [id, fields] of entries) {
          after = `(${id.toString('latin1')}`;
          for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]!.toString('latin1') === 'value' && rawMatches(fields[i + 1])) matched++;
        }
        if (entries.length < 1000) break;
      }
      raw = { ms: performance.now() - started, matched, label: 'ioredis XRANGE COUNT 1000 loop, JSON.parse' };
    }
    const server = await ServerProcess.start(config, { brokers: [broker], label: `scan-${broker}` });
    try {
      const client = mailroomClient(server.url);
      const outcome = await scanThroughServer(client, broker, name);
      const rate = perSecond(count, outcome.ms);
      const rawRate = perSecond(count, raw.ms);
      ctx.log(`  Mailroom ${Math.round(rate)} records/s in ${outcome.requests} requests; raw ${Math.round(rawRate)} records/s`);
      const notes: string[] = [];
      if (outcome.matched !== expected || raw.matched !== expected) {
        notes.push(`match counts differ: expected ${expected}, Mailroom ${outcome.matched}, raw ${raw.matched}.`);
      }
      if (outcome.scanned !== count) notes.push(`Mailroom examined ${outcome.scanned} of ${count} records.`);
      const ratio = ratioOf(rate, rawRate);
      ctx.add({
        benchmark: 'scan',
        title: `Filtered scan of ${count.toLocaleString('en-US')} records`,
        broker,
        unit: 'records/s',
        mailroom: rate,
        raw: rawRate,
        rawLabel: raw.label,
        ratio,
        target: '≥ 0.7 × raw',
        met: ratio === null ? null : ratio >= 0.7,
        details: {
          'Mailroom s': outcome.ms / 1000,
          'raw s': raw.ms / 1000,
          requests: outcome.requests,
          matches: outcome.matched,
          'ms/request': outcome.ms / outcome.requests,
        },
        notes,
      });
    } finally {
      await server.stop();
      await remove().catch((error: unknown) => ctx.log(`  cleanup of ${name} failed: ${String(error)}`));
    }
  });
}
