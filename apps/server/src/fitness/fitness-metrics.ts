import { CRITERIA } from '@mailroom/core';
import { Gauge, type Registry } from 'prom-client';
import type { FiringAlert } from './alert-rules';
import type { ConnectionFitness } from './fitness-service';

/**
 * Fitness on /metrics, from the last measurement of each connection (a scrape never reaches a
 * broker): one score per criterion (unknown scores are left out, never exported as a number)
 * and one series per alert rule that fires, judged on every metrics snapshot.
 */
export function registerFitnessMetrics(registry: Registry, latest: () => ConnectionFitness[], firing: () => FiringAlert[]): void {
  new Gauge({
    name: 'mailroom_fitness_score',
    help: 'Fitness score (0..1) of the connection per criterion of the messaging pattern card; absent when it could not be measured',
    labelNames: ['connection', 'criterion'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of latest()) {
        for (const criterion of c.report.criteria) {
          if (criterion.score !== null && criterion.status !== 'unknown') this.set({ connection: c.connectionId, criterion: criterion.id }, criterion.score);
        }
      }
    },
  });
  new Gauge({
    name: 'mailroom_fitness_threshold',
    help: 'Score a criterion must reach to pass (from the pattern card)',
    labelNames: ['criterion'],
    registers: [registry],
    collect() {
      for (const criterion of CRITERIA) this.set({ criterion: criterion.id }, criterion.threshold);
    },
  });
  new Gauge({
    name: 'mailroom_alerts_firing',
    help: 'Alert rules from the config file that fire now (1 per rule and destination)',
    labelNames: ['connection', 'destination', 'rule'],
    registers: [registry],
    collect() {
      this.reset();
      for (const a of firing()) this.set({ connection: a.connection, destination: a.destination, rule: a.rule }, 1);
    },
  });
}
