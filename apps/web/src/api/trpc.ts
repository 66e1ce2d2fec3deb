import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { QueryClient } from '@tanstack/react-query';
import type { AppRouter } from './router';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export function browserLinks(base = '/trpc'): TRPCLink<AppRouter>[] {
  return [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({ url: base }),
      false: httpBatchLink({ url: base }),
    }),
  ];
}

export function createClient(links: TRPCLink<AppRouter>[] = browserLinks()) {
  return createTRPCClient<AppRouter>({ links });
}

export type MailroomClient = ReturnType<typeof createClient>;

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Operators watch live numbers: refetch on focus, but do not hammer a broker that is down.
        staleTime: 2_000,
        retry: (failures, error) => failures < 2 && !isClientError(error),
        retryDelay: 800,
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}

function isClientError(error: unknown): boolean {
  const code = (error as { data?: { code?: string } } | null)?.data?.code;
  return code === 'BAD_REQUEST' || code === 'NOT_FOUND' || code === 'FORBIDDEN' || code === 'UNAUTHORIZED';
}
