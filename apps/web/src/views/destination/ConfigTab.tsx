import type { DestinationDetail } from '../../api/types';
import { formatCount } from '../../lib/format';

export function ConfigTab({ detail }: { detail: DestinationDetail }) {
  const attributes = Object.entries(detail.attributes);
  const config = Object.entries(detail.config);
  return (
    <div className="grid cols-2">
      <section className="card">
        <div className="card-header"><h2>Attributes</h2></div>
        <div className="card-body">
          {attributes.length === 0 ? <div className="muted">None reported</div> : (
            <dl className="kv">
              {attributes.map(([k, v]) => (
                <div key={k} style={{ display: 'contents' }}>
                  <dt>{k}</dt>
                  <dd>{v === null ? '—' : String(v)}</dd>
                </div>
              ))}
            </dl>
          )}
        </div>
      </section>
      <section className="card">
        <div className="card-header"><h2>Broker configuration</h2></div>
        <div className="card-body">
          {config.length === 0 ? <div className="muted">None reported</div> : (
            <dl className="kv">
              {config.map(([k, v]) => (
                <div key={k} style={{ display: 'contents' }}>
                  <dt className="mono">{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
            </dl>
          )}
        </div>
      </section>
      {detail.partitionDetails.length > 0 && (
        <section className="card flush">
          <div className="card-header"><h2>Partitions</h2></div>
          <div className="card-body table-wrap">
            <table className="table">
              <thead><tr><th>Partition</th><th className="num">Low</th><th className="num">High</th><th className="num">Messages</th></tr></thead>
              <tbody>
                {detail.partitionDetails.map((p) => (
                  <tr key={p.partition}><td>{p.partition}</td><td className="num mono">{p.low}</td><td className="num mono">{p.high}</td><td className="num">{formatCount(p.count)}</td></tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </div>
  );
}
