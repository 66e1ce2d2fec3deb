import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useEffect, useRef, useState } from 'react';
import { useTRPC } from '../api/trpc';
import type { RedriveTask } from '../api/types';
import { formatCount, formatDuration, formatRate, formatTimestamp } from '../lib/format';
import { Icon } from './Icon';
import { Alert } from './States';

export function isFinal(status: RedriveTask['status']): boolean {
  return status !== 'running';
}

/** Share done of a redrive, or null while the total is unknown. */
export function redriveFraction(task: RedriveTask): number | null {
  const p = task.progress;
  const done = p.moved + p.failed + p.skipped;
  if (isFinal(task.status)) return 1;
  if (p.remaining === null) return null;
  const total = done + p.remaining;
  return total === 0 ? 0 : done / total;
}

export function selectionLabel(task: Pick<RedriveTask, 'selection'>): string {
  const s = task.selection;
  return s.kind === 'all' ? 'all messages' : s.kind === 'ids' ? `${formatCount(s.ids.length)} selected message${s.ids.length === 1 ? '' : 's'}` : `messages matching ${s.expression}`;
}

/** Live progress of one redrive (rate, cancel), then its final report. */
export function RedrivePanel({ task: initial, readOnly, onDismiss }: { task: RedriveTask; readOnly: boolean; onDismiss?: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [task, setTask] = useState(initial);
  const samples = useRef<{ t: number; moved: number }[]>([{ t: Date.now(), moved: initial.progress.moved }]);
  useEffect(() => setTask(initial), [initial]);
  const apply = (next: RedriveTask) => {
    setTask(next);
    if (isFinal(next.status)) {
      void queryClient.invalidateQueries(trpc.redrive.list.pathFilter());
      void queryClient.invalidateQueries(trpc.destinations.pathFilter());
      void queryClient.invalidateQueries(trpc.deadLetters.pathFilter());
      void queryClient.invalidateQueries(trpc.messages.browse.pathFilter());
    }
  };
  useSubscription(
    trpc.redrive.progress.subscriptionOptions(
      { taskId: initial.id },
      {
        enabled: !isFinal(initial.status),
        onData: (event) => {
          const next = ((event as { data?: RedriveTask }).data ?? event) as RedriveTask;
          samples.current.push({ t: Date.now(), moved: next.progress.moved });
          if (samples.current.length > 20) samples.current.shift();
          apply(next);
        },
      },
    ),
  );
  // Safety net: if the stream misses the final event (a reconnect at the wrong moment), a slow
  // poll still brings the task to its end state instead of showing "running" forever.
  const polled = useQuery(trpc.redrive.get.queryOptions({ taskId: initial.id }, { enabled: !isFinal(task.status), refetchInterval: 2_000 }));
  useEffect(() => {
    const p = polled.data;
    if (p === undefined || isFinal(task.status)) return;
    if (!isFinal(p.status) && p.updatedAt <= task.updatedAt) return;
    apply(p);
  }, [polled.data]);
  const cancel = useMutation(trpc.redrive.cancel.mutationOptions({ onSuccess: (t) => setTask(t) }));
  const first = samples.current[0]!;
  const last = samples.current[samples.current.length - 1]!;
  const rate = last.t > first.t ? ((last.moved - first.moved) * 1000) / (last.t - first.t) : null;
  const fraction = redriveFraction(task);
  const p = task.report ?? task.progress;
  const running = task.status === 'running';
  const target = task.target ?? "each message's origin";
  const title = running
    ? task.dryRun
      ? `Dry run: counting which of ${selectionLabel(task)} in ${task.source} would move to ${target}`
      : `Redriving ${selectionLabel(task)} from ${task.source} to ${target}`
    : task.dryRun
      ? `Dry run ${task.status}: ${formatCount(p.moved)} message${p.moved === 1 ? '' : 's'} would move`
      : `Redrive ${task.status}: ${formatCount(p.moved)} moved${p.failed > 0 ? `, ${formatCount(p.failed)} failed` : ''}`;

  return (
    <section className="card" aria-label="Redrive progress" data-status={task.status} data-dry-run={task.dryRun || undefined}>
      <div className="card-body stack">
        <div className="row">
          <Icon name={running ? 'redo' : task.status === 'completed' ? 'check' : 'warn'} />
          {task.dryRun && <span className="badge info">Dry run · nothing moves</span>}
          <strong className="grow">{title}</strong>
          {running && !readOnly && (
            <button type="button" className="btn sm danger-outline" onClick={() => cancel.mutate({ taskId: task.id })} disabled={cancel.isPending}>
              <Icon name="stop" size={14} /> {cancel.isPending ? 'Cancelling…' : 'Cancel'}
            </button>
          )}
          {!running && onDismiss !== undefined && (
            <button type="button" className="btn sm ghost" onClick={onDismiss}>Dismiss</button>
          )}
        </div>
        <div
          className={`progress ${fraction === null ? 'indeterminate' : ''}`}
          role="progressbar"
          aria-label="Redrive progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={fraction === null ? undefined : Math.round(fraction * 100)}
        >
          <div style={fraction === null ? undefined : { width: `${fraction * 100}%`, background: task.status === 'failed' ? 'var(--danger)' : task.status === 'completed' ? 'var(--ok)' : undefined }} />
        </div>
        <div className="stats">
          <Figure label={task.dryRun ? 'Would move' : 'Moved'} value={formatCount(p.moved)} />
          <Figure label={task.dryRun ? 'Would fail' : 'Failed'} value={formatCount(p.failed)} danger={p.failed > 0} />
          <Figure label="Skipped" value={formatCount(p.skipped)} />
          <Figure label="Remaining" value={running ? formatCount(p.remaining) : '0'} />
          {!task.dryRun && <Figure label="Possibly duplicated" value={formatCount(p.possiblyDuplicated)} danger={p.possiblyDuplicated > 0} />}
          <Figure label={running ? 'Rate' : 'Duration'} value={running ? formatRate(rate) : formatDuration(task.finishedAt === null ? null : Date.parse(task.finishedAt) - Date.parse(task.startedAt))} />
        </div>
        {task.error !== null && <Alert tone="danger" title="Redrive error">{task.error}</Alert>}
        {task.dryRun && (
          <Alert tone="info" title="Nothing was moved">
            This was a dry run: no message was written to {target} and none was removed from {task.source}.
            {!running && task.status === 'completed' && ` A redrive of the same selection would move ${formatCount(p.moved)} message${p.moved === 1 ? '' : 's'}; start it without "Dry run" to move them.`}
          </Alert>
        )}
        {!running && !task.dryRun && p.possiblyDuplicated > 0 && (
          <Alert tone="warn" title={`${formatCount(p.possiblyDuplicated)} message${p.possiblyDuplicated === 1 ? '' : 's'} may now exist twice at the target`}>
            The broker delivers at least once: these were written to the target but their removal from the DLQ could not be confirmed. Consumers that deduplicate by message id are unaffected.
          </Alert>
        )}
        {task.report !== null && task.report.failures.length > 0 && (
          <details open={task.report.failures.length <= 5}>
            <summary className="field-label" style={{ cursor: 'pointer' }}>Failures ({task.report.failures.length})</summary>
            <table className="table">
              <thead><tr><th>Message</th><th>Reason</th></tr></thead>
              <tbody>
                {task.report.failures.slice(0, 200).map((f) => (
                  <tr key={f.id}><td className="mono">{f.id}</td><td>{f.reason}</td></tr>
                ))}
              </tbody>
            </table>
          </details>
        )}
        <div className="muted small">
          Task <span className="mono">{task.id}</span> · started {formatTimestamp(task.startedAt)}
          {task.finishedAt !== null && ` · finished ${formatTimestamp(task.finishedAt)}`}
          {task.resumes > 0 && ` · resumed ${task.resumes}×`}
          {task.ratePerSecond !== null && ` · limited to ${formatRate(task.ratePerSecond)}`}
        </div>
      </div>
    </section>
  );
}

function Figure({ label, value, danger = false }: { label: string; value: string; danger?: boolean }) {
  return (
    <div className="stat">
      <div className="label">{label}</div>
      <div className="value small" style={danger ? { color: 'var(--danger)' } : undefined}>{value}</div>
    </div>
  );
}
