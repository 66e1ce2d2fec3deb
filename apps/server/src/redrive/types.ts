import type { RedriveProgress, RedriveReport } from '@mailroom/core';

export type RedriveSelectionInput = { kind: 'all' } | { kind: 'ids'; ids: string[] } | { kind: 'filter'; expression: string };

export type RedriveStatus = 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted';

/** A redrive task as stored on disk and sent to the browser. */
export interface RedriveTask {
  id: string;
  connectionId: string;
  source: string;
  /** Null: each message goes back to its origin. */
  target: string | null;
  selection: RedriveSelectionInput;
  ratePerSecond: number | null;
  dryRun: boolean;
  status: RedriveStatus;
  progress: RedriveProgress;
  /** The adapter's final report, once the task ended. */
  report: RedriveReport | null;
  error: string | null;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** How many times the task was resumed (after a restart or a broker outage). */
  resumes: number;
}

export const EMPTY_PROGRESS: RedriveProgress = { moved: 0, failed: 0, skipped: 0, remaining: null, possiblyDuplicated: 0 };
