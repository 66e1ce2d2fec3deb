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
    let rawScan: () => Promise<number>;
    let rawLabel: string;
    let remove: () => Promise<void> = async () => undefined;
    let server: ServerProcess | null = null;
    try {
    const fillStarted = performance.now();
    if (broker === 'kafka') {
      const kafka = kafkaClient(config.endpoints);
      await createTopics(kafka, [{ topic: name, partitions: KAFKA_SCAN_PARTITIONS }]);
      const groups: string[] = [];
      remove = async () => {
        await deleteGroups(kafka, groups);
        await deleteTopics(kafka, [name]);
      };
      const producer = rawProducer(kafka);
      await producer.connect();
      await produceCount(producer, name, count, (n) => messageValue(n, { needleEvery: NEEDLE_EVERY }));
      await producer.disconnect();
      const ends = await highWatermarks(kafka, name);
      rawLabel = 'kafkajs consumer, eachBatch, JSON.parse';
      rawScan = async () => {
        // A new group each time, so each run reads the whole range (and the group join is part of it).
        const group = `${name}-raw-${groups.length}`;
        groups.push(group);
        let matched = 0;
        await consumeRange(kafka, name, group, ends, (values) => {
          for (const v of values) if (rawMatches(v)) matched++;
        });
        return matched;
      };
    } else {
      const redis = redisClient(config.endpoints);
      remove = async () => {
        await redis.unlink(name);
        redis.disconnect();
      };
      await fillStream(redis, name, count, (n) => messageValue(n, { needleEvery: NEEDLE_EVERY }));
      rawLabel = 'ioredis XRANGE COUNT 1000 loop, JSON.parse';
      rawScan = async () => {
        let matched = 0;
        let after = '-';
        for (;;) {
          const entries = await redis.xrangeBuffer(name, after, '+', 'COUNT', 1000);
          for (const [id, fields] of entries) {
            after = `(${id.toString('latin1')}`;
            for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]!.toString('latin1') === 'value' && rawMatches(fields[i + 1])) matched++;
          }
          if (entries.length < 1000) break;
        }
        return matched;
      };
    }
    ctx.log(`  filled ${count} records in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);
      server = await ServerProcess.start(config, { brokers: [broker], label: `scan-${broker}` });
      const client = mailroomClient(server.url);
      const notes: string[] = [];
      const rawMs: number[] = [];
      const runs: ScanOutcome[] = [];
      const serverCpu: number[] = [];
      const rawCpu: number[] = [];
      for (let rep = 0; rep < config.repeat; rep++) {
        const started = performance.now();
        const rawCpuBefore = process.cpuUsage();
        const rawMatched = await rawScan();
        rawMs.push(performance.now() - started);
        const rawUsage = process.cpuUsage(rawCpuBefore);
        rawCpu.push((rawUsage.user + rawUsage.system) / 1e6);
        if (rawMatched !== expected) notes.push(`raw run ${rep + 1} matched ${rawMatched}, expected ${expected}.`);
        server.profileWindow(`scan ${broker} ${rep + 1}`);
        const cpuBefore = server.cpuSeconds() ?? Number.NaN;
        const outcome = await scanThroughServer(client, broker, name);
        serverCpu.push((server.cpuSeconds() ?? Number.NaN) - cpuBefore);
        server.endProfileWindow();
        runs.push(outcome);
        if (outcome.matched !== expected) notes.push(`Mailroom run ${rep + 1} matched ${outcome.matched}, expected ${expected}.`);
        if (outcome.scanned !== count) notes.push(`Mailroom run ${rep + 1} examined ${outcome.scanned} of ${count} records.`);
        ctx.log(`  run ${rep + 1}: Mailroom ${Math.round(perSecond(count, outcome.ms))} records/s in ${outcome.requests} requests; raw ${Math.round(perSecond(count, rawMs[rep]!))} records/s`);
      }
      const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
      const bestRawMs = Math.min(...rawMs);
      const rate = perSecond(count, best.ms);
      const rawRate = perSecond(count, bestRawMs);
      const ratio = ratioOf(rate, rawRate);
      ctx.add({
        benchmark: 'scan',
        title: `Filtered scan of ${count.toLocaleString('en-US')} records`,
        broker,
        unit: 'records/s',
        mailroom: rate,
        raw: rawRate,
        rawLabel,
        ratio,
        target: '≥ 0.7 × raw',
        met: ratio === null ? null : ratio >= 0.7,
        details: {
          'Mailroom s': best.ms / 1000,
          'raw s': bestRawMs / 1000,
          requests: best.requests,
          matches: best.matched,
          'ms/request': best.ms / best.requests,
          'server CPU µs/record': (Math.min(...serverCpu) * 1e6) / count,
          'raw client CPU µs/record': (Math.min(...rawCpu) * 1e6) / count,
          [`best of`]: config.repeat,
          _runsMs: runs.map((r) => r.ms),
          _rawRunsMs: rawMs,
        },
        notes,
      });
    } finally {
      await server?.stop();
      await remove().catch((error: unknown) => ctx.log(`  cleanup of ${name} failed: ${String(error)}`));
    }
  });
}
