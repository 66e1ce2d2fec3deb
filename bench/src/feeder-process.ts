import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { BenchConfig } from './config';
import type { FeederSpec } from './feeder';

export interface FeederResult {
  sent: number;
  ms: number;
}

/** A full-speed producer in a child process (see feeder.ts). */
export class FeederProcess {
  private stdout = '';
  private stderr = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(config: BenchConfig, spec: Omit<FeederSpec, 'endpoints' | 'maxSeconds'> & { maxSeconds?: number }): Promise<FeederProcess> {
    const full: FeederSpec = { ...spec, endpoints: config.endpoints, maxSeconds: spec.maxSeconds ?? 120 };
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('src', 'feeder.ts'), JSON.stringify(full)], {
      cwd: config.benchDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    const feeder = new FeederProcess(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`feeder did not start: ${feeder.stderr}`)), 30_000);
      const onData = () => {
        if (feeder.stdout.includes('ready\n')) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      void feeder.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`feeder exited with ${code}: ${feeder.stderr}`));
      });
    });
    return feeder;
  }

  /** Idempotent: a second call returns the same result. */
  async stop(): Promise<FeederResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const code = await this.exited;
    const line = this.stdout.split('\n').find((l) => l.startsWith('{'));
    if (code !== 0 || !line) throw new Error(`feeder failed (exit ${code}): ${this.stderr.slice(-2000)}`);
    return JSON.parse(line) as FeederResult;
  }
}
