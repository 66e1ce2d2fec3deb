import { mailroomClient, subscribeTail } from '../client';
import { BROKERS } from '../config';
import { forEachBroker, type BenchContext } from '../context';
import { createLiveDestination } from '../fixtures';
import { messageValue, nowMs, sentAtOf } from '../payload';
import { paced } from '../raw/pacer';
import { rawSender } from '../raw/producers';
import { ServerProcess } from '../server-process';
import { percentile, sleep, waitUntil } from '../stats';

const TARGET_P99_MS = 250;
/** Messages sent before this long into the run are not counted (the tail settles). */
const SETTLE_MS = 1_000;

/**
 * Produce-to-screen latency: a raw producer sends at 1,000 msg/s, each message stamped with its
 * send time; the latency of a message is its arrival at an SSE client of messages.tail minus
 * that stamp (both clocks are this process's).
 */
export async function runLatency(ctx: BenchContext): Promise<void> {
  const { config } = ctx;
  const rate = config.latencyRate;
  const durationMs = config.latencySeconds * 1000;
  await forEachBroker(ctx, 'latency', BROKERS, async (broker) => {
    const destination = await createLiveDestination(config, broker, 'latency');
    let server: ServerProcess | null = null;
    let sender: Awaited<ReturnType<typeof rawSender>> | null = null;
    try {
      server = await ServerProcess.start(config, { brokers: [broker], label: `latency-${broker}` });
      const liveSender = await rawSender(broker, config.endpoints, destination.name);
      sender = liveSender;
      const client = mailroomClient(server.url);
      const latencies: number[] = [];
      let runStarted = Number.POSITIVE_INFINITY;
      let probes = 0;
      let measuredArrived = 0;
      const sub = subscribeTail(client, { connectionId: broker, destination: destination.name, force: true }, (event) => {
        const at = nowMs();
        for (const m of event.messages) {
          const sentAt = sentAtOf(Buffer.from(m.valueBase64, 'base64').toString('utf8'));
          if (sentAt === null) continue;
          if (sentAt < 0) {
            probes++;
            continue;
          }
          measuredArrived++;
          if (sentAt >= runStarted + SETTLE_MS) latencies.push(at - sentAt);
        }
      });
      await sub.opened;
      // The tail positions itself at the end after 'open': probe until one arrives.
      await waitUntil(
        `the ${broker} tail to deliver a probe`,
        async () => {
          await liveSender.send([messageValue(-1, { sentAt: -1 })]);
          return probes > 0;
        },
        30_000,
        250,
      );
      await sleep(500);
      runStarted = nowMs();
      server.profileWindow(`latency ${broker}`);
      const { sent, errors } = await paced(rate, durationMs, (first, count) =>
        liveSender.send(Array.from({ length: count }, (_, i) => messageValue(first + i, { sentAt: nowMs() }))),
      );
      server.endProfileWindow();
      if (errors.length > 0) throw new Error(`the producer failed: ${String(errors[0])}`);
      await waitUntil('the last messages to arrive', () => measuredArrived >= sent, 10_000).catch(() => undefined);
      sub.unsubscribe();
      if (sub.errors.length > 0) throw new Error(`tail subscription failed: ${String(sub.errors[0])}`);
      const p50 = percentile(latencies, 50);
      const p99 = percentile(latencies, 99);
      ctx.log(`  p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms over ${latencies.length} messages (${measuredArrived}/${sent} arrived)`);
      const notes = measuredArrived < sent ? [`${sent - measuredArrived} of ${sent} messages had not arrived 10 s after the last send.`] : [];
      ctx.add({
        benchmark: 'latency',
        title: `Produce-to-SSE latency at ${rate.toLocaleString('en-US')} msg/s, p99`,
        broker,
        unit: 'ms',
        mailroom: p99,
        raw: null,
        rawLabel: null,
        ratio: null,
        target: `p99 < ${TARGET_P99_MS} ms`,
        met: latencies.length > 0 && p99 < TARGET_P99_MS && measuredArrived >= sent,
        details: { 'p50 ms': p50, 'p90 ms': percentile(latencies, 90), 'max ms': percentile(latencies, 100), samples: latencies.length, producer: liveSender.label },
        notes,
      });
    } finally {
      await sender?.close().catch(() => undefined);
      await server?.stop();
      await destination.remove().catch((error: unknown) => ctx.log(`  cleanup of ${destination.name} failed: ${String(error)}`));
    }
  });
}
