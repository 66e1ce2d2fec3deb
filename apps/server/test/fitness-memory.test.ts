import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailroomApp } from '../src/app';
import { serve, tempDir, testApp, waitFor } from './helpers';

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

  it('exports the scores (unknown ones left out) and firing alert rules on /metrics, and reports a dead broker as unavailable', async () => {
    const own = tempDir();
    const served = await serve(
      await testApp({
        memory: { enabled: true, demoTraffic: true },
        dataDir: own.dir,
        metricsIntervalMs: 500,
        fitness: { ackDeadlineMs: 2_000, cacheTtlMs: 0, refreshIntervalMs: 0 },
        alerts: [{ connection: 'memory', destination: 'orders', maxDepth: 0 }],
        connections: [{ id: 'gone', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: 'redis://127.0.0.1:1', connectTimeoutMs: 500 } }],
      }),
    );
    try {
      const scores = await waitFor('orders to hold messages', async () => {
        const s = await served.app.caller.fitness.scores({ refresh: true });
        return s.alerts.some((a) => a.destination === 'orders') ? s : null;
      }, 20_000, 250);
      const memory = scores.connections.find((c) => c.connectionId === 'memory')!;
      const gone = scores.connections.find((c) => c.connectionId === 'gone')!;
      expect(gone.status).toBe('unavailable');
      expect(gone.report.criteria.every((c) => c.status === 'unknown' && c.summary.startsWith('could not be measured: '))).toBe(true);
      // The overall report covers what could be measured, with each destination named by its connection.
      expect(scores.overall.criteria.find((c) => c.id === 'dead_letter_handling')!.destinations.map((d) => d.destination)).toContain('memory/notifications');

      const body = await (await fetch(`${served.url}/metrics`)).text();
      for (const c of memory.report.criteria) {
        const line = new RegExp(`^mailroom_fitness_score\\{connection="memory",criterion="${c.id}"\\} (.+)$`, 'm');
        if (c.score === null) expect(body).not.toMatch(line);
        else expect(Number(body.match(line)?.[1])).toBeCloseTo(c.score, 6);
      }
      expect(body).not.toMatch(/mailroom_fitness_score\{connection="gone"/);
      expect(body).toMatch(/^mailroom_fitness_threshold\{criterion="error_retry"\} 0\.9$/m);
      expect(body).toMatch(/^mailroom_alerts_firing\{connection="memory",destination="orders",rule="max depth"\} 1$/m);
    } finally {
      await served.app.close();
      own.remove();
    }
  });
});
