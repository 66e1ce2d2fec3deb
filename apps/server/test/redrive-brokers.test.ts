import { describe, expect, it } from 'vitest';
import type { ConnectionConfig } from '../src/config/schema';
import type { MailroomApp } from '../src/app';
import { KAFKA_BROKERS, RABBITMQ_URL, fromB64, tempDir, testApp, uniqueName, waitFor } from './helpers';

const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';

const brokers: { name: string; connection: ConnectionConfig; sourceEmptiedAfter: boolean }[] = [
  { name: 'kafka', connection: { id: 'b', kind: 'kafka', readOnly: false, demoTraffic: false, config: { brokers: KAFKA_BROKERS.split(',') } }, sourceEmptiedAfter: false },
  { name: 'rabbitmq', connection: { id: 'b', kind: 'rabbitmq', readOnly: false, demoTraffic: false, config: { url: RABBITMQ_URL, managementUrl: MANAGEMENT_URL } }, sourceEmptiedAfter: true },
];

async function allValues(app: MailroomApp, destination: string): Promise<string[]> {
  const page = await app.caller.messages.browse({ connectionId: 'b', destination, start: { from: 'oldest' }, limit: 500, force: true });
  return page.messages.map((m) => fromB64(m.valueBase64).toString('utf8'));
}

describe.each(brokers)('redrive across a server restart on $name', ({ connection, sourceEmptiedAfter }) => {
  it('moves every message exactly once', async () => {
    const data = tempDir();
    const origin = uniqueName('mr-rdb');
    const dlq = `${origin}.dlq`;
    const total = 60;
    const first = await testApp({ dataDir: data.dir, connections: [connection] });
    let second: MailroomApp | null = null;
    try {
      await first.caller.destinations.create({ connectionId: 'b', name: origin, partitions: 1 });
      await first.caller.destinations.create({ connectionId: 'b', name: dlq, partitions: 1 });
      await first.caller.messages.publish({
        connectionId: 'b',
        destination: dlq,
        messages: Array.from({ length: total }, (_, i) => ({ key: `k${i}`, headers: { 'x-mailroom-origin': origin }, value: { encoding: 'text' as const, data: `m-${i}` } })),
      });
      const task = await first.caller.redrive.start({ connectionId: 'b', source: dlq, target: origin, ratePerSecond: 40 });
      await waitFor('some moved', async () => (await first.caller.redrive.get({ taskId: task.id })).progress.moved >= 10, 15_000, 20);
      await first.close();

      second = await testApp({ dataDir: data.dir, connections: [connection] });
      const done = await waitFor('completed after restart', async () => {
        const t = await second!.caller.redrive.get({ taskId: task.id });
        return t.status !== 'running' ? t : null;
      }, 30_000, 100);
      expect(done.status).toBe('completed');
      expect(done.resumes).toBe(1);
      expect(done.progress.failed).toBe(0);
      const moved = await allValues(second, origin);
      expect([...moved].sort()).toEqual(Array.from({ length: total }, (_, i) => `m-${i}`).sort());
      if (sourceEmptiedAfter) expect(await allValues(second, dlq)).toEqual([]);
    } finally {
      const app = second ?? first;
      await app.caller.destinations.delete({ connectionId: 'b', name: origin }).catch(() => undefined);
      await app.caller.destinations.delete({ connectionId: 'b', name: dlq }).catch(() => undefined);
      await second?.close();
      await first.close();
      data.remove();
    }
  });
});
