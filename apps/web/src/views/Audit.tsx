import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useConnections } from '../api/hooks';
import { useTRPC } from '../api/trpc';
import { PageHeader } from '../components/PageHeader';
import { EmptyState, ErrorState, LoadingRows } from '../components/States';
import { useDebounced } from '../lib/useDebounced';

const PAGE = 50;
const ACTIONS = [
  'messages.publish', 'messages.request', 'redrive.start', 'redrive.finished', 'redrive.cancel', 'destinations.purge',
  'destinations.create', 'destinations.delete', 'groups.resetOffsets', 'pending.ack', 'pending.claim', 'auth.signIn', 'auth.signOut',
];

/**
 * The audit log: every mutation and sign-in the caller may see (a connection's entries for its
 * operators and admins), newest first, with filters, paging and a CSV/JSON download.
 */
export default function Audit() {
  const trpc = useTRPC();
  const connections = useConnections();
  const ids = { connection: useId(), action: useId(), result: useId(), search: useId() };
  const [connectionId, setConnectionId] = useState('');
  const [action, setAction] = useState('');
  const [result, setResult] = useState<'' | 'ok' | 'refused' | 'failed'>('');
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const settledSearch = useDebounced(search.trim(), 300);
  const filter = {
    ...(connectionId !== '' ? { connectionId } : {}),
    ...(action !== '' ? { action } : {}),
    ...(result !== '' ? { result } : {}),
    ...(settledSearch !== '' ? { search: settledSearch } : {}),
  };
  const list = useQuery(trpc.audit.list.queryOptions({ ...filter, offset, limit: PAGE }, { placeholderData: keepPreviousData, refetchInterval: 10_000 }));
  const exportHref = (format: 'csv' | 'json') => `/api/audit/export?${new URLSearchParams({ format, ...filter }).toString()}`;
  const total = list.data?.total ?? 0;
  const change = <T,>(set: (v: T) => void) => (v: T) => {
    set(v);
    setOffset(0);
  };

  return (
    <div className="page">
      <PageHeader
        crumbs={[{ label: 'Overview', href: '/' }]}
        title="Audit log"
        subtitle={list.isSuccess ? `${total} entr${total === 1 ? 'y' : 'ies'}` : 'Every change and sign-in'}
        actions={
          <>
            <a className="btn" href={exportHref('csv')} download>Export CSV</a>
            <a className="btn" href={exportHref('json')} download>Export JSON</a>
          </>
        }
      />
      <div className="toolbar row wrap">
        <div className="field">
          <label htmlFor={ids.connection}>Connection</label>
          <select id={ids.connection} className="input" value={connectionId} onChange={(e) => change(setConnectionId)(e.target.value)}>
            <option value="">All</option>
            {connections.data?.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.action}>Action</label>
          <select id={ids.action} className="input" value={action} onChange={(e) => change(setAction)(e.target.value)}>
            <option value="">All</option>
            {ACTIONS.map((a) => <option key={a} value={a}>{a}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.result}>Result</label>
          <select id={ids.result} className="input" value={result} onChange={(e) => change(setResult)(e.target.value as typeof result)}>
            <option value="">All</option>
            <option value="ok">ok</option>
            <option value="refused">refused</option>
            <option value="failed">failed</option>
          </select>
        </div>
        <div className="field grow">
          <label htmlFor={ids.search}>Search</label>
          <input id={ids.search} className="input" value={search} onChange={(e) => change(setSearch)(e.target.value)} placeholder="destination, detail, error or user" maxLength={200} />
        </div>
      </div>
      <section className="card flush" aria-label="Audit entries">
        {list.isPending && <LoadingRows label="Loading the audit log" />}
        {list.isError && <ErrorState error={list.error} onRetry={() => void list.refetch()} />}
        {list.isSuccess && list.data.items.length === 0 && <EmptyState title="No entries">Nothing recorded matches, or your role does not show entries of these connections.</EmptyState>}
        {list.isSuccess && list.data.items.length > 0 && (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr><th>When</th><th>Who</th><th>Action</th><th>Connection</th><th>Destination</th><th className="num">Messages</th><th>Result</th><th>Detail</th></tr>
              </thead>
              <tbody>
                {list.data.items.map((e) => (
                  <tr key={e.id}>
                    <td className="mono small" title={e.at}>{new Date(e.at).toLocaleString()}</td>
                    <td title={`${e.via}${e.ip ? ` from ${e.ip}` : ''}`}>{e.user}</td>
                    <td className="mono small">{e.action}</td>
                    <td>{e.connectionId ?? '—'}</td>
                    <td className="mono small truncate">{e.destination ?? '—'}</td>
                    <td className="num">{e.count ?? '—'}</td>
                    <td><span className={`badge ${e.result === 'ok' ? 'ok' : e.result === 'refused' ? 'warn' : 'danger'}`}>{e.result}</span></td>
                    <td className="small">{e.error ?? e.detail ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {total > PAGE && (
        <div className="row" style={{ marginTop: 12 }}>
          <button type="button" className="btn sm" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Newer</button>
          <span className="muted small">{offset + 1}–{Math.min(offset + PAGE, total)} of {total}</span>
          <button type="button" className="btn sm" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>Older</button>
        </div>
      )}
    </div>
  );
}
