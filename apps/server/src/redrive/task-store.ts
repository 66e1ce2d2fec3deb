import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RedriveTask } from './types';

export interface StoredTask {
  version: 1;
  task: RedriveTask;
  /** The adapter's checkpoint (opaque), so a resumed task skips what was done. */
  checkpoint: unknown;
}

const TASK_ID = /^[A-Za-z0-9_-]{1,80}$/;

export function isValidTaskId(id: string): boolean {
  return TASK_ID.test(id);
}

/**
 * One JSON file per redrive task under `<dataDir>/redrive/`, replaced atomically (write a
 * temporary file, fsync, rename), so a crash leaves either the old or the new state, never half.
 */
export class TaskStore {
  readonly dir: string;
  private readonly queues = new Map<string, Promise<void>>();

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'redrive');
  }

  private file(id: string): string {
    if (!isValidTaskId(id)) throw new Error(`invalid task id ${JSON.stringify(id)}`);
    return path.join(this.dir, `${id}.json`);
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  /** Writes are queued per task so they land in call order. */
  write(record: StoredTask): Promise<void> {
    const id = record.task.id;
    const body = JSON.stringify(record, null, 1);
    const previous = this.queues.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.writeAtomically(this.file(id), body));
    this.queues.set(id, next);
    void next.finally(() => {
      if (this.queues.get(id) === next) this.queues.delete(id);
    }).catch(() => undefined);
    return next;
  }

  private async writeAtomically(file: string, body: string): Promise<void> {
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(body, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  }

  async read(id: string): Promise<StoredTask | null> {
    try {
      return JSON.parse(await readFile(this.file(id), 'utf8')) as StoredTask;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Every readable task file; unreadable ones are reported, not fatal. */
  async readAll(onError: (file: string, error: unknown) => void): Promise<StoredTask[]> {
    const out: StoredTask[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) {
        if (name.endsWith('.tmp')) await rm(path.join(this.dir, name), { force: true });
        continue;
      }
      try {
        const record = JSON.parse(await readFile(path.join(this.dir, name), 'utf8')) as StoredTask;
        if (record.version === 1 && record.task && isValidTaskId(record.task.id)) out.push(record);
        else onError(name, new Error('not a redrive task record'));
      } catch (error) {
        onError(name, error);
      }
    }
    return out;
  }

  /** Waits for every queued write. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
  }
}
