import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
  brokers: Record<string, string>;
}

/** Broker software versions as the infra probes report them. */
export function brokerVersions(repoRoot: string): Record<string, string> {
  const out: Record<string, string> = {};
  let text = '';
  try {
    text = execFileSync('bash', ['infra/brokers.sh', 'status'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (error) {
    text = String((error as { stdout?: string }).stdout ?? '');
  }
  const kafka = /Kafka (\d+\.\d+\.\d+)/.exec(text);
  const elasticmq = /ElasticMQ (\d+\.\d+\.\d+)/.exec(text);
  const rabbit = /RabbitMQ (\d+\.\d+\.\d+)/.exec(text);
  const redis = /Redis (\d+\.\d+\.\d+)/.exec(text);
  if (kafka) out.kafka = `Kafka ${kafka[1]} (KRaft, 1 node)`;
  if (rabbit) out.rabbitmq = `RabbitMQ ${rabbit[1]}`;
  if (redis) out.redis = `Redis ${redis[1]}`;
  if (elasticmq) out.sqs = `ElasticMQ ${elasticmq[1]}`;
  return out;
}

export function machineInfo(repoRoot: string): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryGb: os.totalmem() / 1024 ** 3,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    loadAverageStart: os.loadavg(),
    loadAverageEnd: os.loadavg(),
    brokers: brokerVersions(repoRoot),
  };
}

/** Busy share of all cores since `since` (from /proc/stat), to show when the machine itself was saturated. */
export class SystemCpu {
  private readonly start = SystemCpu.read();

  private static read(): { busy: number; total: number } | null {
    try {
      const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
      const values = line.trim().split(/\s+/).slice(1).map(Number);
      const idle = (values[3] ?? 0) + (values[4] ?? 0);
      const total = values.reduce((a, b) => a + b, 0);
      return { busy: total - idle, total };
    } catch {
      return null;
    }
  }

  /** 0..1 over the interval, null where /proc/stat is missing. */
  busyShare(): number | null {
    const end = SystemCpu.read();
    if (!end || !this.start || end.total === this.start.total) return null;
    return (end.busy - this.start.busy) / (end.total - this.start.total);
  }
}
