import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BenchConfig, Broker } from './config';
import { sleep, waitUntil } from './stats';

/** Connection ids in the server's config are the broker kinds. */
export function connectionConfigs(config: BenchConfig, brokers: readonly Broker[]): unknown[] {
  const e = config.endpoints;
  const all: Record<Broker, unknown> = {
    kafka: { id: 'kafka', kind: 'kafka', config: { brokers: e.kafkaBrokers } },
    rabbitmq: { id: 'rabbitmq', kind: 'rabbitmq', config: { url: e.rabbitmqUrl, managementUrl: e.rabbitmqManagementUrl } },
    redis: { id: 'redis', kind: 'redis', config: { url: e.redisUrl } },
    sqs: { id: 'sqs', kind: 'sqs', config: { endpoint: e.sqsEndpoint, region: 'elasticmq', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } } },
  };
  return brokers.map((b) => all[b]);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function readStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

export interface RssWindow {
  /** Highest resident set size sampled (every 100 ms) while the window was open, in bytes. */
  peakBytes: number;
  samples: number;
}

/**
 * The real Mailroom server (apps/server/src/main.ts) in a child process of its own, so its RSS
 * is its own. Only the connections a benchmark needs are configured; no embedded memory broker.
 */
export class ServerProcess {
  private sampler: ReturnType<typeof setInterval> | null = null;
  private windowPeak = 0;
  private windowSamples = 0;
  private exited: Promise<number | null>;
  private output: string[] = [];
  private readonly windows: { label: string; fromUs: number; toUs: number }[] = [];
  private openWindow: { label: string; fromUs: number } | null = null;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    private readonly dataDir: string,
    /** Where the CPU profiles go when profiling, else null. */
    readonly profileDir: string | null,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString('utf8'));
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  static async start(config: BenchConfig, options: { brokers: readonly Broker[]; label: string; webDist?: string | null; env?: Record<string, string> }): Promise<ServerProcess> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'mailroom-bench-server-'));
    const configFile = path.join(dataDir, 'config.json');
    const file: Record<string, unknown> = { memory: { enabled: false, demoTraffic: false }, connections: connectionConfigs(config, options.brokers) };
    // A server with sign-in (issue 12) lets loopback clients in anonymously when told to; the
    // benchmark clients are on loopback and measure the API, not the sign-in.
    if (existsSync(path.join(config.serverRoot, 'apps/server/src/security/config.ts'))) file.auth = { anonymous: { role: 'admin' } };
    writeFileSync(configFile, JSON.stringify(file, null, 2));
    const port = await freePort();
    const args = ['--import', 'tsx'];
    let profileDir: string | null = null;
    if (config.profile) {
      // One folder per server: the main thread and the module loader's thread each write a profile.
      profileDir = path.join(config.resultsDir, 'profiles', `server-${options.label}-${Date.now()}`);
      mkdirSync(profileDir, { recursive: true });
      args.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
    }
    args.push('src/main.ts');
    const serverDir = path.join(config.serverRoot, 'apps/server');
    // Only what the server needs: no KAFKA_BROKERS etc., so the connections are exactly the config file's.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      MAILROOM_CONFIG: configFile,
      MAILROOM_DATA_DIR: path.join(dataDir, 'data'),
      MAILROOM_WEB_DIST: options.webDist ?? path.join(dataDir, 'no-web'),
      HOST: '127.0.0.1',
      PORT: String(port),
      ...options.env,
    };
    const child = spawn(process.execPath, args, { cwd: serverDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`, dataDir, profileDir);
    try {
      await waitUntil(
        'the Mailroom server to listen',
        async () => {
          if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${server.log()}`);
          const res = await fetch(`${server.url}/healthz`).catch(() => null);
          return res?.ok === true;
        },
        60_000,
        100,
      );
      // Every configured connection up (the health monitor pings each broker).
      await waitUntil(
        'every connection to be up',
        async () => {
          const res = await fetch(`${server.url}/readyz`);
          const body = (await res.json()) as { connections: { id: string; status: string; reason: string | null }[] };
          const down = body.connections.filter((c) => c.status !== 'up');
          if (down.length > 0) throw new Error(down.map((c) => `${c.id}: ${c.status} ${c.reason ?? ''}`).join('; '));
          return body.connections.length === options.brokers.length;
        },
        30_000,
        100,
      );
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  log(): string {
    return this.output.join('').slice(-4000);
  }

  rssBytes(): number | null {
    const kb = readStatusKb(this.pid, 'VmRSS');
    return kb === null ? null : kb * 1024;
  }

  /** Peak RSS over the whole life of the process (the kernel's high-water mark). */
  hwmBytes(): number | null {
    const kb = readStatusKb(this.pid, 'VmHWM');
    return kb === null ? null : kb * 1024;
  }

  /**
   * Marks the measured part of a benchmark in the server's CPU profile: V8 profiles are
   * timestamped with the same monotonic clock as process.hrtime, so `profile-summary.ts --windows`
   * can keep only the samples taken while this window was open (no start-up noise).
   */
  profileWindow(label: string): void {
    this.endProfileWindow();
    this.openWindow = { label, fromUs: Number(process.hrtime.bigint() / 1000n) };
  }

  endProfileWindow(): void {
    if (this.openWindow) this.windows.push({ ...this.openWindow, toUs: Number(process.hrtime.bigint() / 1000n) });
    this.openWindow = null;
  }

  /** CPU seconds (user + system) the server process used so far. */
  cpuSeconds(): number | null {
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted from the state field (3).
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      return null;
    }
  }

  startRssWindow(): void {
    this.stopSampler();
    this.windowPeak = this.rssBytes() ?? 0;
    this.windowSamples = 1;
    this.sampler = setInterval(() => {
      const rss = this.rssBytes();
      if (rss !== null) {
        this.windowPeak = Math.max(this.windowPeak, rss);
        this.windowSamples++;
      }
    }, 100);
  }

  endRssWindow(): RssWindow {
    const rss = this.rssBytes();
    if (rss !== null) this.windowPeak = Math.max(this.windowPeak, rss);
    this.stopSampler();
    return { peakBytes: this.windowPeak, samples: this.windowSamples };
  }

  private stopSampler(): void {
    if (this.sampler !== null) clearInterval(this.sampler);
    this.sampler = null;
  }

  /** SIGTERM (the server closes its tails and connections; a CPU profile is written), SIGKILL after 20 s. */
  async stop(): Promise<void> {
    this.stopSampler();
    this.endProfileWindow();
    if (this.profileDir) writeFileSync(path.join(this.profileDir, 'windows.json'), `${JSON.stringify(this.windows, null, 2)}\n`);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const killed = await Promise.race([this.exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!killed) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
