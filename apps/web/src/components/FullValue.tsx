import { useState } from 'react';
import { useTRPCClient } from '../api/trpc';
import type { Capabilities, WireMessage } from '../api/types';
import { formatBytes } from '../lib/format';
import { ActionError } from './ActionError';
import { Icon } from './Icon';
import { Spinner } from './States';

type State = { status: 'idle' | 'loading' | 'missing' } | { status: 'error'; error: unknown };

/**
 * For a value the live tail cut short: reads that exact message again by its position (a browse
 * returns whole values) and hands it back. Only where the broker can read by position.
 */
export function LoadFullValue({ message, connectionId, capabilities, onLoaded }: { message: WireMessage; connectionId: string; capabilities: Capabilities; onLoaded: (full: WireMessage) => void }) {
  const client = useTRPCClient();
  const [state, setState] = useState<State>({ status: 'idle' });
  const position = message.position;
  if (!capabilities.browseByPosition || position === null) {
    return <span>This broker cannot read a single message by position, so the whole value cannot be loaded here.</span>;
  }
  const load = async () => {
    setState({ status: 'loading' });
    try {
      const page = await client.messages.browse.query({
        connectionId,
        destination: message.destination,
        start: { from: 'position', position },
        limit: 1,
        ...(capabilities.partitions && message.partition !== null ? { partition: message.partition } : {}),
        ...(capabilities.peekIsDestructive ? { force: true } : {}),
      });
      const found = page.messages.find((m) => m.position === position && m.partition === message.partition);
      if (found === undefined) setState({ status: 'missing' });
      else onLoaded(found);
    } catch (error) {
      setState({ status: 'error', error });
    }
  };
  return (
    <>
      <button type="button" className="btn sm" onClick={() => void load()} disabled={state.status === 'loading'}>
        {state.status === 'loading' ? <><Spinner label="Loading the full value" /> Loading…</> : <><Icon name="download" size={14} /> Load full value ({formatBytes(message.size)})</>}
      </button>
      {state.status === 'missing' && (
        <span role="alert">Nothing is stored at {message.partition === null ? `position ${position}` : `offset ${position} of partition ${message.partition}`} any more: retention or a purge removed it.</span>
      )}
      {state.status === 'error' && <div style={{ flexBasis: '100%' }}><ActionError error={state.error} /></div>}
    </>
  );
}
