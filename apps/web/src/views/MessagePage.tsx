import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'wouter';
import { capabilitiesOf } from '../api/capabilities';
import { useConnection } from '../api/hooks';
import { useTRPCClient } from '../api/trpc';
import type { BrowseInput, WireMessage } from '../api/types';
import { MessageViewer } from '../components/MessageViewer';
import { PageHeader } from '../components/PageHeader';
import { PeekGuard } from '../components/PeekGuard';
import { Alert, EmptyState, ErrorState, LoadingRows } from '../components/States';
import { decodeParam, routes } from '../lib/routes';

/** How far back a message without a position is searched for by id. */
const SEARCH_LIMIT = 500;

/**
 * A single message by link: read at its position where the broker has positions, otherwise
 * searched for by id among the newest messages.
 */
export default function MessagePage() {
  const params = useParams<{ conn: string; dest: string; id: string }>();
  const connectionId = decodeParam(params.conn);
  const destination = decodeParam(params.dest);
  const id = decodeParam(params.id);
  const [search] = useSearchParams();
  const position = search.get('position');
  const partitionParam = search.get('partition');
  const partition = partitionParam === null ? null : Number(partitionParam);
  const { connection, query: connections } = useConnection(connectionId);
  const client = useTRPCClient();
  const [confirmed, setConfirmed] = useState(false);
  const caps = connection === undefined ? null : capabilitiesOf(connection);
  const byPosition = caps?.browseByPosition === true && position !== null;

  const found = useQuery({
    queryKey: ['message', connectionId, destination, id, position, partition],
    enabled: caps !== null && (confirmed || !caps.peekIsDestructive),
    staleTime: Infinity,
    retry: false,
    refetchOnWindowFocus: false,
    queryFn: async ({ signal }): Promise<WireMessage | null> => {
      const input: BrowseInput = {
        connectionId,
        destination,
        start: byPosition ? { from: 'position', position: position! } : { from: 'newest' },
        limit: byPosition ? 1 : SEARCH_LIMIT,
        ...(partition !== null && caps?.partitions ? { partition } : {}),
        ...(caps?.peekIsDestructive ? { force: true } : {}),
      };
      const page = await client.messages.browse.query(input, { signal });
      return page.messages.find((m) => m.id === id || (byPosition && m.position === position && (partition === null || m.partition === partition))) ?? null;
    },
  });

  return (
    <div className="page">
      <PageHeader
        crumbs={[
          { label: 'Overview', href: '/' },
          { label: connection?.name ?? connectionId, href: routes.destinations(connectionId) },
          { label: destination, href: routes.destination(connectionId, destination) },
        ]}
        title={<>Message <span className="mono">{position ?? id}</span></>}
        subtitle={partition !== null ? `Partition ${partition}` : undefined}
      />
      {connections.isPending && <LoadingRows />}
      {connections.isError && <ErrorState error={connections.error} onRetry={() => void connections.refetch()} />}
      {connections.isSuccess && connection === undefined && <Alert tone="danger" title="Unknown connection">No connection named <code>{connectionId}</code> is configured.</Alert>}
      {connection !== undefined && caps !== null && (
        <PeekGuard capabilities={caps} action="Read the message" confirmed={confirmed} onConfirm={() => setConfirmed(true)}>
          {found.isPending ? (
            <div className="card"><LoadingRows rows={8} label="Loading message" /></div>
          ) : found.isError ? (
            <ErrorState error={found.error} onRetry={() => void found.refetch()} />
          ) : found.data === null ? (
            <div className="card">
              <EmptyState title="Message not found" action={<Link href={routes.destination(connectionId, destination)} className="btn">Browse {destination}</Link>}>
                {byPosition
                  ? `Nothing is stored at position ${position}${partition !== null ? ` of partition ${partition}` : ''}: it may have been deleted by retention.`
                  : `No message with id ${id} among the newest ${SEARCH_LIMIT}: it may have been consumed, redriven or expired.`}
              </EmptyState>
            </div>
          ) : (
            <div style={{ maxWidth: 1100 }}>
              <MessageViewer message={found.data} connectionId={connectionId} readOnly={connection.readOnly} />
            </div>
          )}
        </PeekGuard>
      )}
    </div>
  );
}
