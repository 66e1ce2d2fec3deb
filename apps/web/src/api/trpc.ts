import { createTRPCClient, httpBatchLink, httpBatchStreamLink, httpSubscriptionLink, splitLink, type TRPCLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { QueryClient } from '@tanstack/react-query';
import type { AppRouter } from './router';
import { csrfHeaders, isUnauthorized, redirectToSignIn, sessionFetch } from './session';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export function browserLinks(base = '/trpc'): TRPCLink<AppRouter>[] {
  return [
    splitLink({
      condition: (op) => op.type === 'subscription',
      // EventSource sends the SameSite=Strict session cookie by itself; the server checks Origin.
      true: httpSubscriptionLink({ url: base }),
      // Every request carries the CSRF header; a 401 sends the operator to the sign-in page.
      false: splitLink({
        condition: (op) => op.type === 'query',
        // Queries still share one request, but each answer streams back as soon as it is ready:
        // one slow broker no longer holds back every other card in the batch.
        true: httpBatchStreamLink({ url: base, headers: csrfHeaders, fetch: sessionFetch }),
        false: httpBatchLink({ url: base, headers: csrfHeaders, fetch: sessionFetch }),
      }),
    }),
  ];
}

export function createClient(links: TRPCLink<AppRouter>[] = browserLinks()) {
  return createTRPCClient<AppRouter>({ links });
}

export type MailroomClient = ReturnType<typeof createClient>;

export function createQueryClient(): QueryClient {
  const client: QueryClient = new QueryClient({
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
  // A subscription (or a batch with mixed answers) reports UNAUTHORIZED without a 401 response.
  client.getQueryCache().subscribe((event) => {
    if (event.type === 'updated' && event.action.type === 'error' && isUnauthorized(event.action.error)) redirectToSignIn();
  });
  return client;
}

function isClientError(error: unknown): boolean {
  const code = (error as { data?: { code?: string } } | null)?.data?.code;
  return code === 'BAD_REQUEST' || code === 'NOT_FOUND' || code === 'FORBIDDEN' || code === 'UNAUTHORIZED';
}
