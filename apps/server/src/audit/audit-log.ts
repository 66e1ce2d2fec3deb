import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { Counter, type Registry } from 'prom-client';
import type { SignInMethod } from '../auth/principal';

export type AuditResult = 'ok' | 'refused' | 'failed';

/** One line of the audit log: who did what, where, to how many messages, and how it ended. */
export interface AuditEntry {
  id: string;
  at: string;
  user: string;
  via: SignInMethod;
  sessionId: string | null;
  ip: string | null;
  /** The procedure (e.g. messages.publish) or auth.signIn / auth.signOut. */
  action: string;
  connectionId: string | null;
  destination: string | null;
  detail: string | null;
  /** Messages published, moved, purged, acknowledged... when known. */
  count: number | null;
  result: AuditResult;
  /** For refused or failed entries: the error code and message. */
  error: string | null;
}

export type AuditInput = Omit<AuditEntry, 'id' | 'at'>;

export interface AuditQuery {
  connectionId?: string | undefined;
  action?: string | undefined;
  user?: string | undefined;
  result?: AuditResult | undefined;
  since?: string | undefined;
  until?: string | undefined;
  /** Substring of destination, detail or error (case-insensitive). */
  search?: string | undefined;
}

const clip = (value: string | null, max: number): string | null => (value === null ? null : value.length > max ? `${value.slice(0, max)}…` : value);

/**
 * Append-only JSON-lines audit log under `<dataDir>/audit/`: `audit.log` is rotated to
 * `audit.log.1` (and on, up to `maxFiles` files) when it would pass `maxFileBytes`. Each entry is
 * written synchronously before the caller goes on, so a crash right after a mutation keeps its
 * entry. The retained files are also held in memory for paging and export.
 */
export class AuditLog {
  private readonly dir: string;
  private readonly file: string;
  /** Oldest first. */
  private entries: AuditEntry[] = [];
  /** Entries per retained file: [audit.log, audit.log.1, ...]. */
  private fileCounts: number[] = [0];
  private currentBytes = 0;
  private readonly counter: Counter<'action' | 'result'>;

  constructor(
    dataDir: string,
    private readonly limits: { maxFileBytes: number; maxFiles: number },
    registry: Registry,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.dir = path.join(dataDir, 'audit');
    this.file = path.join(this.dir, 'audit.log');
    this.counter =
      (registry.getSingleMetric('mailroom_audit_events_total') as Counter<'action' | 'result'> | undefined) ??
      new Counter({ name: 'mailroom_audit_events_total', help: 'Audited actions (mutations and sign-ins) by action and result', labelNames: ['action', 'result'], registers: [registry] });
    this.load();
  }

  private rotated(n: number): string {
    return n === 0 ? this.file : `${this.file}.${n}`;
  }

  private load(): void {
    mkdirSync(this.dir, { recursive: true });
    const counts: number[] = [];
    const loaded: AuditEntry[][] = [];
    for (let n = 0; n < this.limits.maxFiles; n++) {
      const file = this.rotated(n);
      if (!existsSync(file)) {
        counts.push(0);
        loaded.push([]);
        continue;
      }
      const list: AuditEntry[] = [];
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        try {
          list.push(JSON.parse(line) as AuditEntry);
        } catch {
          this.log(`skipping an unreadable line in ${file}`);
        }
      }
      counts.push(list.length);
      loaded.push(list);
    }
    this.fileCounts = counts;
    this.entries = loaded.reverse().flat();
    this.currentBytes = existsSync(this.file) ? statSync(this.file).size : 0;
  }

  record(input: AuditInput): AuditEntry {
    const entry: AuditEntry = {
      id: `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
      at: new Date().toISOString(),
      ...input,
      user: clip(input.user, 200)!,
      destination: clip(input.destination, 300),
      detail: clip(input.detail, 500),
      error: clip(input.error, 500),
    };
    const line = `${JSON.stringify(entry)}\n`;
    const bytes = Buffer.byteLength(line);
    try {
      if (this.currentBytes > 0 && this.currentBytes + bytes > this.limits.maxFileBytes) this.rotate();
      appendFileSync(this.file, line, { mode: 0o600 });
      this.currentBytes += bytes;
    } catch (error) {
      // The mutation already happened: keep the entry in memory and say why the file lacks it.
      this.log(`could not write the audit log ${this.file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.entries.push(entry);
    this.fileCounts[0] = (this.fileCounts[0] ?? 0) + 1;
    this.counter.inc({ action: entry.action, result: entry.result });
    return entry;
  }

  private rotate(): void {
    const last = this.limits.maxFiles - 1;
    if (last === 0) {
      rmSync(this.file, { force: true });
      this.entries = [];
      this.fileCounts = [0];
      this.currentBytes = 0;
      return;
    }
    rmSync(this.rotated(last), { force: true });
    for (let n = last - 1; n >= 0; n--) if (existsSync(this.rotated(n))) renameSync(this.rotated(n), this.rotated(n + 1));
    const dropped = this.fileCounts.length > last ? (this.fileCounts[last] ?? 0) : 0;
    this.entries.splice(0, dropped);
    this.fileCounts = [0, ...this.fileCounts.slice(0, last)];
    this.currentBytes = 0;
  }

  /** Entries matching `query` that `visible` lets the caller see, newest first. */
  list(query: AuditQuery, visible: (entry: AuditEntry) => boolean, page: { offset: number; limit: number }): { items: AuditEntry[]; total: number } {
    const matching = this.select(query, visible);
    return { items: matching.slice(page.offset, page.offset + page.limit), total: matching.length };
  }

  select(query: AuditQuery, visible: (entry: AuditEntry) => boolean): AuditEntry[] {
    const needle = query.search?.toLowerCase() ?? '';
    const out: AuditEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (query.connectionId !== undefined && e.connectionId !== query.connectionId) continue;
      if (query.action !== undefined && e.action !== query.action) continue;
      if (query.user !== undefined && e.user !== query.user) continue;
      if (query.result !== undefined && e.result !== query.result) continue;
      if (query.since !== undefined && e.at < query.since) continue;
      if (query.until !== undefined && e.at > query.until) continue;
      if (needle !== '' && ![e.destination, e.detail, e.error, e.user].some((v) => v?.toLowerCase().includes(needle))) continue;
      if (!visible(e)) continue;
      out.push(e);
    }
    return out;
  }

  get size(): number {
    return this.entries.length;
  }
}

const CSV_COLUMNS: (keyof AuditEntry)[] = ['at', 'user', 'via', 'ip', 'action', 'connectionId', 'destination', 'detail', 'count', 'result', 'error', 'sessionId', 'id'];

/** RFC 4180 CSV; cells that a spreadsheet would run as a formula are prefixed with '. */
export function auditToCsv(entries: AuditEntry[]): string {
  const cell = (value: unknown): string => {
    let text = value === null || value === undefined ? '' : String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [CSV_COLUMNS.join(','), ...entries.map((e) => CSV_COLUMNS.map((c) => cell(e[c])).join(','))].join('\r\n') + '\r\n';
}
