import { randomBytes } from 'node:crypto';
import {
  ForbiddenError,
  NotFoundError,
  compileFilter,
  isMailroomError,
  sleep,
  type RedriveProgress,
  type RedriveReport,
  type RedriveRequest,
  type RedriveSelection,
} from '@mailroom/core';
import type { Connection } from '../connections/connection';
import type { ConnectionRegistry } from '../connections/connection-registry';
import { NO_MASK, type MessageMask } from '../masking/masker';
import type { MetricsService } from '../metrics/metrics-service';
import type { StoredTask, TaskStore } from './task-store';
import { EMPTY_PROGRESS, type RedriveSelectionInput, type RedriveTask } from './types';

export interface StartRedriveInput {
  connectionId: string;
  source: string;
  target: string | null;
  selection: RedriveSelectionInput;
  ratePerSecond: number | null;
  dryRun: boolean;
}

interface Entry {
  record: StoredTask;
  controller: AbortController | null;
  run: Promise<void> | null;
  cancelRequested: boolean;
  listeners: Set<(task: RedriveTask) => void>;
  /** Progress already counted into the Prometheus counters. */
  counted: RedriveProgress;
  lastPersist: number;
}

const PERSIST_PROGRESS_MS = 500;

function newTaskId(): string {
  return `rd-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * A filter selection evaluates the masked message, as browse and tail filters do: otherwise a dry
 * run's counts would tell which messages hold a masked value. What moves is the original message.
 */
function selectionFor(input: RedriveSelectionInput, mask: MessageMask): RedriveSelection {
  if (input.kind !== 'filter') return input;
  const predicate = compileFilter(input.expression);
  return { kind: 'filter', expression: input.expression, predicate: (message) => predicate(mask(message)) };
}

/**
 * Runs redrive tasks and keeps them durable: each task's state and the adapter's checkpoint live
 * in a file, so after a restart every task that was running resumes with the same task id and
 * checkpoint, and the adapter skips what it had already moved.
 */
export class RedriveManager {
  private readonly entries = new Map<string, Entry>();
  private closing = false;
  private readonly log: (message: string) => void;

  constructor(
    private readonly store: TaskStore,
    private readonly connections: ConnectionRegistry,
    private readonly metrics: MetricsService,
    log?: (message: string) => void,
    /** Server-wide read-only mode: stored tasks that would move messages are not resumed. */
    private readonly globalReadOnly = false,
    /** The masking of a connection (Masker.forConnection), applied to what a filter selection sees. */
    private readonly maskFor: (connectionId: string) => MessageMask = () => NO_MASK,
  ) {
    this.log = log ?? ((message) => console.warn(`[redrive] ${message}`));
  }

  /** Loads stored tasks and resumes those that were running. */
  async init(): Promise<void> {
    await this.store.init();
    const records = await this.store.readAll((file, error) => this.log(`ignoring unreadable task file ${file}: ${error instanceof Error ? error.message : String(error)}`));
    for (const record of records) {
      const entry = this.entryFor(record);
      if (record.task.status !== 'running') continue;
      if (!this.connections.has(record.task.connectionId)) {
        this.finish(entry, { status: 'interrupted', error: `connection ${record.task.connectionId} is no longer configured; the task cannot resume` });
        continue;
      }
      const readOnly = this.globalReadOnly ? 'Mailroom is in read-only mode' : this.connections.get(record.task.connectionId).readOnly ? `connection ${record.task.connectionId} is read-only` : null;
      if (readOnly !== null && !record.task.dryRun) {
        this.finish(entry, { status: 'interrupted', error: `${readOnly}; the task was not resumed` });
        continue;
      }
      entry.record.task.resumes += 1;
      this.launch(entry);
    }
  }

  private entryFor(record: StoredTask): Entry {
    const entry: Entry = { record, controller: null, run: null, cancelRequested: false, listeners: new Set(), counted: { ...record.task.progress }, lastPersist: 0 };
    this.entries.set(record.task.id, entry);
    return entry;
  }

  async start(input: StartRedriveInput): Promise<RedriveTask> {
    const connection = this.connections.get(input.connectionId);
    if (connection.readOnly && !input.dryRun) throw new ForbiddenError(`Connection ${connection.label} is read-only: redrive is disabled`);
    const adapter = await connection.reachableAdapter();
    adapter.validateDestinationName(input.source);
    if (input.target !== null) adapter.validateDestinationName(input.target);
    selectionFor(input.selection, NO_MASK); // throws InvalidInputError with a position for a bad filter
    const now = new Date().toISOString();
    const task: RedriveTask = {
      id: newTaskId(),
      connectionId: input.connectionId,
      source: input.source,
      target: input.target,
      selection: input.selection,
      ratePerSecond: input.ratePerSecond,
      dryRun: input.dryRun,
      status: 'running',
      progress: { ...EMPTY_PROGRESS },
      report: null,
      error: null,
      startedAt: now,
      updatedAt: now,
      finishedAt: null,
      resumes: 0,
    };
    const entry = this.entryFor({ version: 1, task, checkpoint: null });
    await this.store.write(entry.record);
    this.launch(entry);
    return { ...task };
  }

  private launch(entry: Entry): void {
    const controller = new AbortController();
    entry.controller = controller;
    this.metrics.redriveRunning.inc();
    entry.run = this.run(entry, controller.signal)
      .catch((error) => this.finish(entry, { status: 'failed', error: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        this.metrics.redriveRunning.dec();
        entry.controller = null;
      });
  }

  private async run(entry: Entry, signal: AbortSignal): Promise<void> {
    const task = entry.record.task;
    const connection = this.connections.get(task.connectionId);
    const adapter = connection.requireAdapter();
    const request: RedriveRequest = {
      taskId: task.id,
      source: task.source,
      target: task.target,
      selection: selectionFor(task.selection, this.maskFor(task.connectionId)),
      ratePerSecond: task.ratePerSecond,
      dryRun: task.dryRun,
    };
    const checkpoint = {
      load: async () => entry.record.checkpoint,
      save: async (state: unknown) => {
        entry.record.checkpoint = state;
        entry.record.task.updatedAt = new Date().toISOString();
        entry.lastPersist = Date.now();
        await this.store.write(entry.record);
      },
    };
    let outage = 0;
    for (;;) {
      if (signal.aborted) return this.afterAbort(entry);
      if (connection.health.status !== 'up') {
        await this.waitForBroker(connection, signal);
        if (signal.aborted) return this.afterAbort(entry);
      }
      let report: RedriveReport;
      try {
        report = await adapter.redrive(request, { signal, checkpoint, onProgress: (progress) => this.progress(entry, progress) });
      } catch (error) {
        if (signal.aborted) return this.afterAbort(entry);
        const mapped = connection.mapError(error);
        if (isMailroomError(mapped) && mapped.code === 'UNAVAILABLE') {
          // The broker went away mid-task: wait and resume from the checkpoint.
          outage += 1;
          entry.record.task.error = mapped.message;
          entry.record.task.resumes += 1;
          this.notify(entry);
          await this.store.write(entry.record).catch(() => undefined);
          await sleep(Math.min(10_000, 500 * 2 ** Math.min(outage, 5)), signal);
          continue;
        }
        throw mapped;
      }
      this.progress(entry, report);
      if (report.outcome === 'cancelled' && !entry.cancelRequested) {
        // Aborted by shutdown: stays "running" on disk so the next start resumes it.
        return this.afterAbort(entry);
      }
      entry.record.task.report = report;
      this.finish(entry, { status: report.outcome, error: report.error });
      return;
    }
  }

  private async waitForBroker(connection: Connection, signal: AbortSignal): Promise<void> {
    while (!signal.aborted && connection.health.status !== 'up') await sleep(500, signal);
  }

  private afterAbort(entry: Entry): void {
    if (entry.cancelRequested) {
      this.finish(entry, { status: 'cancelled', error: null });
      return;
    }
    void this.store.write(entry.record).catch((error) => this.log(`could not persist task ${entry.record.task.id}: ${String(error)}`));
  }

  private progress(entry: Entry, progress: RedriveProgress): void {
    const task = entry.record.task;
    task.progress = { moved: progress.moved, failed: progress.failed, skipped: progress.skipped, remaining: progress.remaining, possiblyDuplicated: progress.possiblyDuplicated };
    task.updatedAt = new Date().toISOString();
    if (!task.dryRun) {
      for (const result of ['moved', 'failed', 'skipped'] as const) {
        const delta = progress[result] - entry.counted[result];
        if (delta > 0) {
          this.metrics.redriveMessages.inc({ connection: task.connectionId, result }, delta);
          entry.counted[result] = progress[result];
        }
      }
    }
    this.notify(entry);
    if (Date.now() - entry.lastPersist >= PERSIST_PROGRESS_MS) {
      entry.lastPersist = Date.now();
      void this.store.write(entry.record).catch((error) => this.log(`could not persist task ${task.id}: ${String(error)}`));
    }
  }

  private finish(entry: Entry, result: { status: RedriveTask['status']; error: string | null }): void {
    const task = entry.record.task;
    if (task.status !== 'running') return;
    task.status = result.status;
    task.error = result.error;
    task.finishedAt = new Date().toISOString();
    task.updatedAt = task.finishedAt;
    this.metrics.redriveTasks.inc({ connection: task.connectionId, outcome: result.status });
    this.notify(entry);
    void this.store.write(entry.record).catch((error) => this.log(`could not persist task ${task.id}: ${String(error)}`));
  }

  private notify(entry: Entry): void {
    const snapshot = { ...entry.record.task, progress: { ...entry.record.task.progress } };
    for (const listener of entry.listeners) listener(snapshot);
  }

  private entry(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw new NotFoundError(`No redrive task ${JSON.stringify(id)}`);
    return entry;
  }

  get(id: string): RedriveTask {
    const task = this.entry(id).record.task;
    return { ...task, progress: { ...task.progress } };
  }

  list(connectionId?: string): RedriveTask[] {
    return [...this.entries.values()]
      .map((e) => e.record.task)
      .filter((t) => connectionId === undefined || t.connectionId === connectionId)
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
      .map((t) => ({ ...t, progress: { ...t.progress } }));
  }

  /** Asks a running task to stop; resolves with its state once it stopped (or after 5 s). */
  async cancel(id: string): Promise<RedriveTask> {
    const entry = this.entry(id);
    const connection = this.connections.has(entry.record.task.connectionId) ? this.connections.get(entry.record.task.connectionId) : null;
    if (connection?.readOnly && !entry.record.task.dryRun) throw new ForbiddenError(`Connection ${connection.label} is read-only`);
    if (entry.record.task.status === 'running' && entry.controller) {
      entry.cancelRequested = true;
      entry.controller.abort();
      await Promise.race([entry.run, sleep(5_000)]);
    }
    return this.get(id);
  }

  /** Calls `listener` on every change of the task until the returned function is called. */
  subscribe(id: string, listener: (task: RedriveTask) => void): () => void {
    const entry = this.entry(id);
    entry.listeners.add(listener);
    return () => entry.listeners.delete(listener);
  }

  /** Stops every running task without cancelling it: they resume on the next start. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const runs: Promise<void>[] = [];
    for (const entry of this.entries.values()) {
      if (entry.controller) {
        entry.controller.abort();
        if (entry.run) runs.push(entry.run);
      }
    }
    await Promise.race([Promise.allSettled(runs), sleep(10_000)]);
    await this.store.flush();
  }
}
