import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailroomApp } from '../src/app';
import { tempDir, testApp, waitFor } from './helpers';

describe('fitness on the embedded demo', () => {
  let app: MailroomApp;
  const data = tempDir();

  beforeAll(async () => {
    app = await testApp({ memory: { enabled: true, demoTraffic: true }, dataDir: data.dir, metricsIntervalMs: 500, fitness: { ackDeadlineMs: 2_000, cacheTtlMs: 0 } });
  });
  afterAll(async () => {
    await app.close();
    data.remove();
  });

  it('shows a mix of passing and failing criteria, each failure with its destination and fix', async () => {
    const scores = await waitFor(
      'demo traffic to reach every criterion',
      async () => {
        const s = await app.caller.fitness.scores({ connectionId: 'memory', refresh: true });
        const statuses = s.connections[0]?.report.criteria.map((c) => c.status) ?? [];
        return statuses.includes('pass') && statuses.includes('fail') && s.connections[0]?.report.criteria.find((c) => c.id === 'error_retry')?.status !== 'unknown' ? s : null;
      },
      30_000,
      500,
    );
    const report = scores.connections[0]!.report;
    const byId = Object.fromEntries(report.criteria.map((c) => [c.id, c]));
    // notifications has consumers but no DLQ; clickstream's messages carry no ids; only some destinations have alert rules.
    expect(byId['dead_letter_handling']!.status).toBe('fail');
    expect(report.failing.some((f) => f.criterion === 'dead_letter_handling' && f.destination === 'notifications')).toBe(true);
    expect(byId['idempotent_consumers']!.destinations.find((d) => d.destination === 'clickstream')?.status).toBe('fail');
    expect(byId['monitoring']!.destinations.find((d) => d.destination === 'orders')?.status).toBe('pass');
    expect(byId['monitoring']!.destinations.find((d) => d.destination === 'notifications')?.status).toBe('fail');
    expect(byId['error_retry']!.destinations.find((d) => d.destination === 'orders')?.status).toBe('pass');
    for (const failing of report.failing) expect(failing.fix.length).toBeGreaterThan(10);
    expect(scores.overall.criteria).toHaveLength(5);
  });
});
