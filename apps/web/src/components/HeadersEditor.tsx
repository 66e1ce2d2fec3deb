import { Icon } from './Icon';

export interface HeaderRow { name: string; value: string }

export function duplicateHeaderNames(rows: HeaderRow[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const r of rows) {
    const n = r.name.trim();
    if (n === '') continue;
    if (seen.has(n)) dup.add(n);
    seen.add(n);
  }
  return [...dup];
}

export function HeadersEditor({ rows, onChange, disabled = false }: { rows: HeaderRow[]; onChange: (rows: HeaderRow[]) => void; disabled?: boolean }) {
  const set = (i: number, patch: Partial<HeaderRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const dups = duplicateHeaderNames(rows);
  return (
    <fieldset className="field" style={{ border: 0, padding: 0, margin: 0 }} disabled={disabled}>
      <legend className="field-label" style={{ marginBottom: 4 }}>Headers</legend>
      {rows.length > 0 && (
        <div className="headers-editor">
          {rows.map((r, i) => (
            <div key={i} style={{ display: 'contents' }}>
              <input className="input mono" aria-label={`Header ${i + 1} name`} placeholder="name" value={r.name} aria-invalid={dups.includes(r.name.trim()) || (r.name.trim() === '' && r.value !== '')} onChange={(e) => set(i, { name: e.target.value })} />
              <input className="input mono" aria-label={`Header ${i + 1} value`} placeholder="value" value={r.value} onChange={(e) => set(i, { value: e.target.value })} />
              <button type="button" className="btn icon ghost" aria-label={`Remove header ${r.name || i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
                <Icon name="x" size={14} />
              </button>
            </div>
          ))}
        </div>
      )}
      {dups.length > 0 && <div className="error">Duplicate header: {dups.join(', ')}</div>}
      <div>
        <button type="button" className="btn sm" onClick={() => onChange([...rows, { name: '', value: '' }])}>
          <Icon name="plus" size={14} /> Add header
        </button>
      </div>
    </fieldset>
  );
}
