/**
 * Renders the real app (router, tRPC client, react-query) against procedure handlers instead of
 * a server: a link answers each operation by its path, so views run exactly as in the browser.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, type RenderResult } from '@testing-library/react';
import { TRPCClientError, createTRPCClient, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import type { ReactNode } from 'react';
import { Router } from 'wouter';
import { memoryLocation } from 'wouter/memory-location';
import { App } from '../App';
import type { AppRouter } from '../api/router';
import { TRPCProvider } from '../api/trpc';
import { ToastProvider } from '../components/Toasts';

// Load the lazy route chunks once up front, so a test's first render does not wait on a
// cold transform (which on a busy machine can outlast a findBy timeout).
await Promise.all([
  import('../views/Overview'), import('../views/Destinations'), import('../views/DestinationPage'),
  import('../views/MessagePage'), import('../views/PublishPage'), import('../views/DeadLetters'),
  import('../views/Audit'),
]);

export type Handler = (input: never) => unknown;
export type Handlers = Record<string, Handler>;

export interface Call { path: string; type: string; input: unknown }

/** An error as the server's errorFormatter shapes it. */
export function serverError(code: string, message: string, extra: { mailroomCode?: string; hint?: string; httpStatus?: number } = {}): Error {
  return TRPCClientError.from({
    error: {
      message,
      code: -32000,
      data: { code, httpStatus: extra.httpStatus ?? 500, mailroomCode: extra.mailroomCode ?? null, hint: extra.hint ?? null, issues: null },
    },
  });
}

export const brokerDownError = (name = 'memory') =>
  serverError('SERVICE_UNAVAILABLE', `broker ${name} is unreachable: connect ECONNREFUSED 127.0.0.1:9092`, { mailroomCode: 'UNAVAILABLE', hint: 'Check that the broker is running.', httpStatus: 503 });

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof v === 'object' && v !== null && Symbol.asyncIterator in v;
}

export function mockLink(handlers: Handlers, calls: Call[]): TRPCLink<AppRouter> {
  return () =>
    ({ op }) =>
      observable((observer) => {
        calls.push({ path: op.path, type: op.type, input: op.input });
        let stopped = false;
        const handler = handlers[op.path];
        if (handler === undefined) {
          observer.error(TRPCClientError.from(serverError('NOT_FOUND', `No procedure found on path "${op.path}"`)));
          return () => undefined;
        }
        void (async () => {
          try {
            const result = await (handler as (input: unknown) => unknown)(op.input);
            if (op.type === 'subscription') {
              observer.next({ result: { type: 'started' } });
              if (isAsyncIterable(result)) {
                let seq = 0;
                for await (const event of result) {
                  if (stopped) return;
                  // Like httpSubscriptionLink with tracked() events: data arrives as { id, data }.
                  const id = String(++seq);
                  observer.next({ result: { type: 'data', id, data: { id, data: event } } as never });
                }
              }
              if (!stopped) observer.complete();
              return;
            }
            if (stopped) return;
            observer.next({ result: { type: 'data', data: result } });
            observer.complete();
          } catch (err) {
            if (!stopped) observer.error(err instanceof TRPCClientError ? err : TRPCClientError.from(err as Error));
          }
        })();
        return () => {
          stopped = true;
        };
      });
}

/** A promise that never settles: the loading state. */
export const never = () => new Promise<never>(() => undefined);

/** An async iterable the test pushes events into. */
export function pushStream<T>() {
  const queue: T[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  return {
    push(event: T) {
      queue.push(event);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (ended) return;
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    },
  };
}

export function renderApp(path: string, handlers: Handlers): RenderResult & { calls: Call[]; location: ReturnType<typeof memoryLocation>; queryClient: QueryClient } {
  const calls: Call[] = [];
  const [pathname, search = ''] = path.split('?');
  const location = memoryLocation({ path: pathname, searchPath: search, record: true });
  const client = createTRPCClient<AppRouter>({ links: [mockLink(handlers, calls)] });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity, refetchInterval: false, refetchOnWindowFocus: false }, mutations: { retry: false } } });
  const wrap = (children: ReactNode) => (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={client} queryClient={queryClient}>
        <ToastProvider>
          <Router hook={location.hook} searchHook={location.searchHook}>{children}</Router>
        </ToastProvider>
      </TRPCProvider>
    </QueryClientProvider>
  );
  const result = render(wrap(<App />));
  return { ...result, calls, location, queryClient };
}
