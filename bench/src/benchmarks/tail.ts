import { mailroomClient, subscribeTail } from '../client';
import { BROKERS, type Broker } from '../config';
import { forEachBroker, ratioOf, type BenchContext } from '../context';
import { FeederProcess } from '../feeder-process';
import { createLiveDestination } from '../fixtures';
import { startWatcher } from '../raw/watchers';
import { ServerProcess } from '../server-process';
import { SystemCpu } from '../machine';
import { perSecond, sleep, waitUntil } from '../stats';

const WARM_UP_MS = 2_000;
const FIRST_DELIVERY_MS = 20_000;
const RSS_TARGET_BYTES = 300 * 1024 * 1024;

interface Window {
  delivered: number;
  ms: number;
}

/** Counts arrivals between `start()` and `stop()`. */
class Counter {
  total = 0;
  skipped = 0;
  private startTotal = 0;
  private startAt = 0;

  add(n: number, skipped = 0): void {
    this.total += n;
    this.skipped += skipped;
  }

  start(): void {
    this.startTotal = this.total;
    this.startAt = performance.now();
  }

  stop(): Window {
    return { delivered: this.total - this.startTotal, ms: performance.now() - this.startAt };
  }
}

/**
 * Tail throughput: a feeder process writes at full speed; messages per second that reach an
 * HTTP client through the server's SSE tail, against a raw consumer on the same destination.
 */
export async function runTail(ctx: BenchContext): Promise<void> {
  const { config } = ctx;
  const windowMs = config.tailSeconds * 1000;
  await forEachBroker(ctx, 'tail', BROKERS, async (broker: Broker) => {
    const destination = await createLiveDestination(config, broker, 'tail');
    let server: ServerProcess | null = null;
    // Stopped in `finally` too, so a failure never leaves a full-speed producer running.
    const feeders: FeederProcess[] = [];
    try {
      server = await ServerProcess.start(config, { brokers: [broker], label: `tail-${broker}` });
      const idleRss = server.rssBytes();
      // Raw client first.
      const raw = new Counter();
      const rawFeeder = await FeederProcess.start(config, { broker, destination: destination.name });
      feeders.push(rawFeeder);
      const watcher = await startWatcher(broker, config.endpoints, destination.name, (values) => raw.add(values.length));
      await waitUntil(`raw ${broker} consumer to receive`, () => raw.total > 0, 60_000);
      await sleep(WARM_UP_MS);
      raw.start();
      const rawCpuBefore = process.cpuUsage();
      const rawSystem = new SystemCpu();
      await sleep(windowMs);
      const rawWindow = raw.stop();
      const rawCpu = process.cpuUsage(rawCpuBefore);
      const rawSystemBusy = rawSystem.busyShare();
      await watcher.stop();
      const rawFeed = await rawFeeder.stop();
      const rawRate = perSecond(rawWindow.delivered, rawWindow.ms);
      ctx.log(`  raw ${watcher.label}: ${Math.round(rawRate)} msg/s (feeder ${Math.round(perSecond(rawFeed.sent, rawFeed.ms))} msg/s)`);

      // Each run starts from an empty destination (what the raw run left unread stays out of the way).
      await destination.purge();

      // Mailroom: the server's SSE tail to this process.
      const client = mailroomClient(server.url);
      const mailroom = new Counter();
      let events = 0;
      const sub = subscribeTail(client, { connectionId: broker, destination: destination.name, force: true }, (event) => {
        if (event.kind !== 'batch') return;
        events++;
        mailroom.add(event.messages.length, event.skipped);
      });
      await sub.opened;
      const feeder = await FeederProcess.start(config, { broker, destination: destination.name });
      feeders.push(feeder);
      server.startRssWindow();
      const delivering = await waitUntil(`the ${broker} tail to deliver`, () => mailroom.total > 0, FIRST_DELIVERY_MS).catch(() => false);
      await sleep(WARM_UP_MS);
      const cpuBefore = server.cpuSeconds();
      const clientCpuBefore = process.cpuUsage();
      const system = new SystemCpu();
      const eventsBefore = events;
      const skippedBefore = mailroom.skipped;
      mailroom.start();
      server.profileWindow(`tail ${broker}`);
      await sleep(windowMs);
      server.endProfileWindow();
      const window = mailroom.stop();
      const cpuAfter = server.cpuSeconds();
      const clientCpu = process.cpuUsage(clientCpuBefore);
      const systemBusy = system.busyShare();
      const rss = server.endRssWindow();
      const windowEvents = events - eventsBefore;
      const windowSkipped = mailroom.skipped - skippedBefore;
      sub.unsubscribe();
      const feed = await feeder.stop();
      if (sub.errors.length > 0) throw new Error(`tail subscription failed: ${String(sub.errors[0])}`);
      const rate = perSecond(window.delivered, window.ms);
      const ratio = ratioOf(rate, rawRate);
      const cpuShare = cpuBefore !== null && cpuAfter !== null ? (cpuAfter - cpuBefore) / (window.ms / 1000) : null;
      ctx.log(`  Mailroom SSE: ${Math.round(rate)} msg/s, skipped ${windowSkipped}, peak RSS ${(rss.peakBytes / 1048576).toFixed(0)} MB, server CPU ${cpuShare?.toFixed(2)} cores, client CPU ${((clientCpu.user + clientCpu.system) / 1000 / window.ms).toFixed(2)} cores`);
      const notes: string[] = [];
      if (!delivering) notes.push(`nothing arrived within ${FIRST_DELIVERY_MS / 1000} s of the feed starting; the window counted what came after.`);
      if (windowSkipped > 0) notes.push(`the tail skipped ${windowSkipped.toLocaleString('en-US')} messages in the window (reader slower than the feed; the skipped count is reported to the client).`);
      ctx.add({
        benchmark: 'tail',
        title: 'Tail throughput (SSE)',
        broker,
        unit: 'msg/s',
        mailroom: rate,
        raw: rawRate,
        rawLabel: watcher.label,
        ratio,
        target: '≥ 0.7 × raw',
        met: ratio === null ? null : ratio >= 0.7,
        details: {
          'feed msg/s (Mailroom run)': perSecond(feed.sent, feed.ms),
          'feed msg/s (raw run)': perSecond(rawFeed.sent, rawFeed.ms),
          'skipped in window': windowSkipped,
          'msgs/event': windowEvents > 0 ? window.delivered / windowEvents : 0,
          'server CPU cores': cpuShare ?? Number.NaN,
          'client CPU cores': (clientCpu.user + clientCpu.system) / 1000 / window.ms,
          'server CPU µs/msg': cpuShare !== null && rate > 0 ? (cpuShare * 1e6) / rate : Number.NaN,
          'raw client CPU µs/msg': rawWindow.delivered > 0 ? (rawCpu.user + rawCpu.system) / rawWindow.delivered : Number.NaN,
          'machine CPU busy % (Mailroom run)': systemBusy === null ? Number.NaN : systemBusy * 100,
          'machine CPU busy % (raw run)': rawSystemBusy === null ? Number.NaN : rawSystemBusy * 100,
          'window s': window.ms / 1000,
        },
        notes,
      });
      ctx.add({
        benchmark: 'tail-rss',
        title: 'Server peak RSS while tailing at full speed',
        broker,
        unit: 'MB',
        mailroom: rss.peakBytes / 1048576,
        raw: null,
        rawLabel: null,
        ratio: null,
        target: '< 300 MB',
        met: rss.peakBytes < RSS_TARGET_BYTES,
        details: { 'RSS after start MB': (idleRss ?? 0) / 1048576, 'RSS samples': rss.samples, 'process high-water MB': (server.hwmBytes() ?? 0) / 1048576 },
        notes: [],
      });
    } finally {
      await Promise.all(feeders.map((f) => f.stop().catch(() => undefined)));
      await server?.stop();
      await destination.remove().catch((error: unknown) => ctx.log(`  cleanup of ${destination.name} failed: ${String(error)}`));
    }
  });
}
