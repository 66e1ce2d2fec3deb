import type { DestinationSummary } from '@mailroom/core';
import type { Connection } from './connection';

export type DestinationSort = 'name' | 'depth' | 'lag' | 'publishRate';

export interface DestinationQuery {
  search?: string | undefined;
  sort: DestinationSort;
  dir: 'asc' | 'desc';
  offset: number;
  limit: number;
  deadLettersOnly?: boolean | undefined;
}

interface Snapshot {
  items: DestinationSummary[];
  fetchedAt: number;
  sorted: Map<string, DestinationSummary[]>;
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Orders by `sort` in `dir`; unknown (null) values come last and ties go by name, in both directions. */
function comparator(sort: DestinationSort, dir: 'asc' | 'desc'): (a: DestinationSummary, b: DestinationSummary) => number {
  const sign = dir === 'asc' ? 1 : -1;
  if (sort === 'name') return (a, b) => sign * collator.compare(a.name, b.name);
  return (a, b) => {
    const x = a[sort];
    const y = b[sort];
    if (x !== y) {
      if (x === null) return 1;
      if (y === null) return -1;
      if (x !== y) return sign * (x - y);
    }
    return collator.compare(a.name, b.name);
  };
}

/**
 * listDestinations results per connection, reused for `ttlMs` so that paging, sorting and
 * searching a 10,000-destination broker is an in-memory operation, not a broker round trip.
 */
export class DestinationCache {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly inflight = new Map<string, Promise<Snapshot>>();

  constructor(private readonly ttlMs: number) {}

  async snapshot(connection: Connection): Promise<Snapshot> {
    const cached = this.snapshots.get(connection.id);
    if (cached && Date.now() - cached.fetchedAt < this.ttlMs) return cached;
    const running = this.inflight.get(connection.id);
    if (running) return running;
    const load = connection
      .call('list destinations', (adapter) => adapter.listDestinations())
      .then((items) => {
        const snapshot: Snapshot = { items, fetchedAt: Date.now(), sorted: new Map() };
        this.snapshots.set(connection.id, snapshot);
        return snapshot;
      })
      .finally(() => this.inflight.delete(connection.id));
    this.inflight.set(connection.id, load);
    return load;
  }

  async list(connection: Connection): Promise<DestinationSummary[]> {
    return (await this.snapshot(connection)).items;
  }

  async query(connection: Connection, query: DestinationQuery): Promise<{ items: DestinationSummary[]; total: number; fetchedAt: string }> {
    const snapshot = await this.snapshot(connection);
    const key = `${query.sort}:${query.dir}`;
    let sorted = snapshot.sorted.get(key);
    if (!sorted) {
      sorted = [...snapshot.items].sort(comparator(query.sort, query.dir));
      snapshot.sorted.set(key, sorted);
    }
    const needle = query.search?.trim().toLowerCase() ?? '';
    const matching = needle === '' && !query.deadLettersOnly
      ? sorted
      : sorted.filter((d) => (!query.deadLettersOnly || d.isDeadLetter) && (needle === '' || d.name.toLowerCase().includes(needle)));
    return {
      items: matching.slice(query.offset, query.offset + query.limit),
      total: matching.length,
      fetchedAt: new Date(snapshot.fetchedAt).toISOString(),
    };
  }

  invalidate(connectionId: string): void {
    this.snapshots.delete(connectionId);
  }
}
