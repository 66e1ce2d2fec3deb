import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderText, type BenchResults } from '../src/report';

const results: BenchResults = {
  version: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:10:00.000Z',
  durationSeconds: 600,
  command: 'pnpm --filter @mailroom/bench bench',
  scale: 0.1,
  settings: {},
  machine: { cpuModel: 'Test CPU', cores: 2, memoryGb: 8, os: 'Linux', node: '20.20.2', loadAverageStart: [1, 2, 3], loadAverageEnd: [1, 1, 1], brokers: { redis: 'Redis 7.0.15' } },
  rows: [
    {
      benchmark: 'tail',
      title: 'Tail throughput (SSE)',
      broker: 'redis',
      unit: 'msg/s',
      mailroom: 12_345.6,
      raw: 50_000,
      rawLabel: 'ioredis | XREAD',
      ratio: 0.2469,
      target: '≥ 0.7 × raw',
      met: false,
      details: { 'server CPU cores': 0.5, _hidden: 1, list: [1, 2] },
      notes: ['the tail skipped 10 messages.'],
    },
    { benchmark: 'listing', title: 'List', broker: 'sqs', unit: 'ms', mailroom: 120, raw: null, rawLabel: null, ratio: null, target: '< 300 ms', met: true, details: {}, notes: [] },
  ],
  errors: [{ benchmark: 'scan', broker: 'kafka', error: 'boom' }],
};

describe('markdown report', () => {
  const md = renderMarkdown(results);

  it('has one table row per result with ratio, figures and an escaped pipe', () => {
    expect(md).toContain(
      '| Tail throughput (SSE) | redis | 12,346 msg/s | 50,000 msg/s (ioredis \\| XREAD) | 0.25 | ≥ 0.7 × raw | **no** | server CPU cores 0.5 |',
    );
    expect(md).toContain('| List | sqs | 120 ms | — | — | < 300 ms | yes |  |');
  });

  it('names the machine, the notes and the failures', () => {
    expect(md).toContain('Machine: Test CPU, 2 cores, 8 GB RAM, Linux, Node 20.20.2');
    expect(md).toContain('- Tail throughput (SSE) (redis): the tail skipped 10 messages.');
    expect(md).toContain('- scan (kafka): boom');
    expect(md).not.toContain('_hidden');
  });

  it('renders an aligned text table', () => {
    const lines = renderText(results).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^Tail throughput \(SSE\)\s+redis\s+12,346 msg\/s\s+50,000 msg\/s\s+0\.25\s+≥ 0\.7 × raw\s+NO$/);
  });
});
