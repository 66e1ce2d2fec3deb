import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useTRPC } from './trpc';
import type { Connection } from './types';

/** Every connection, with health kept current by the server's health stream. */
export function useConnections() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const query = useQuery(trpc.connections.list.queryOptions(undefined, { refetchInterval: 30_000 }));
  useSubscription(
    trpc.connections.health.subscriptionOptions(undefined, {
      enabled: query.isSuccess,
      onData: (update) => {
        const list = (update as unknown as { data?: unknown }).data ?? update;
        if (!Array.isArray(list)) return;
        queryClient.setQueryData(trpc.connections.list.queryKey(), (old) => mergeHealth(old, list as Partial<Connection>[]));
      },
    }),
  );
  return query;
}

export function mergeHealth(old: Connection[] | undefined, updates: Partial<Connection>[]): Connection[] | undefined {
  if (old === undefined) return old;
  const byId = new Map(updates.filter((u) => typeof u.id === 'string').map((u) => [u.id, u]));
  return old.map((c) => {
    const u = byId.get(c.id);
    return u?.health === undefined ? c : { ...c, health: u.health };
  });
}

export function useConnection(id: string): { connection: Connection | undefined; query: ReturnType<typeof useConnections> } {
  const query = useConnections();
  return { connection: query.data?.find((c) => c.id === id), query };
}
