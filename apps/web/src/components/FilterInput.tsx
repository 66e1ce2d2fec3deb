import { useEffect, useId, useState } from 'react';
import { useTRPCClient } from '../api/trpc';
import { Icon } from './Icon';

/**
 * Filter expression box. The expression is checked by the server's filter language before it
 * is applied, so a typo shows where it is instead of an empty result.
 */
export function FilterInput({ value, onApply, width = 300 }: { value: string; onApply: (expression: string) => void; width?: number }) {
  const client = useTRPCClient();
  const [text, setText] = useState(value);
  const [error, setError] = useState<string | null>(null);
  const errorId = useId();
  useEffect(() => setText(value), [value]);
  const apply = async () => {
    const expression = text.trim();
    if (expression === '') {
      setError(null);
      onApply('');
      return;
    }
    try {
      const result = await client.filters.validate.query({ expression });
      if (result.ok) {
        setError(null);
        onApply(expression);
      } else {
        setError(result.position === null ? result.error : `${result.error} (at ${result.position})`);
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : 'Could not check the filter');
    }
  };
  return (
    <form className="row" style={{ position: 'relative', gap: 4 }} onSubmit={(e) => { e.preventDefault(); void apply(); }}>
      <Icon name="filter" size={14} />
      <input
        className="input mono"
        style={{ width, height: 24 }}
        aria-label="Filter expression"
        aria-invalid={error !== null}
        aria-describedby={error !== null ? errorId : undefined}
        placeholder={'filter, e.g. json.status == "failed" and key startsWith "order-"'}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="submit" className="btn sm">{value !== '' && text.trim() === value ? 'Applied' : 'Apply'}</button>
      {value !== '' && (
        <button type="button" className="btn sm ghost" onClick={() => { setText(''); setError(null); onApply(''); }}>Clear</button>
      )}
      {error !== null && (
        <div id={errorId} role="alert" className="small" style={{ position: 'absolute', top: 28, left: 18, zIndex: 5, background: 'var(--danger-soft)', color: 'var(--danger)', padding: '3px 8px', borderRadius: 4, whiteSpace: 'nowrap' }}>
          {error}
        </div>
      )}
    </form>
  );
}
