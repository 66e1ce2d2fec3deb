import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCClient } from '@trpc/client';
import { EventSource } from 'eventsource';
import type { AppRouter, TailStreamEvent } from '@mailroom/server/router';

export type MailroomClient = TRPCClient<AppRouter>;

/**
 * The same transport the web app uses: httpBatchLink for queries and mutations, SSE
 * (httpSubscriptionLink, with the `eventsource` polyfill on Node 20) for subscriptions.
 */
export function mailroomClient(url: string): MailroomClient {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: `${url}/trpc`, EventSource }),
        // One procedure per request: a benchmark times one request, not a batch of them.
        // Mutations carry x-mailroom-csrf, as the web app does (anonymous loopback access has no
        // session token, so any value is accepted).
        false: httpBatchLink({ url: `${url}/trpc`, maxItems: 1, headers: { 'x-mailroom-csrf': 'mailroom-bench' } }),
      }),
    ],
  });
}

export interface TailClientEvent {
  event: TailStreamEvent;
  /** When the client received it (performance.timeOrigin + now). */
  at: number;
}

export interface TailSubscription {
  opened: Promise<void>;
  errors: unknown[];
  unsubscribe(): void;
}

/** Subscribes to messages.tail over SSE and hands every event to `onEvent` as it arrives. */
export function subscribeTail(
  client: MailroomClient,
  input: { connectionId: string; destination: string; force?: boolean; filter?: string },
  onEvent: (event: TailStreamEvent) => void,
): TailSubscription {
  const errors: unknown[] = [];
  let markOpen: () => void = () => undefined;
  let markFailed: (error: unknown) => void = () => undefined;
  const opened = new Promise<void>((resolve, reject) => {
    markOpen = resolve;
    markFailed = reject;
  });
  const sub = client.messages.tail.subscribe(input, {
    onData: (tracked) => {
      const event = (tracked as unknown as { data: TailStreamEvent }).data;
      if (event.kind === 'open') markOpen();
      onEvent(event);
    },
    onError: (error) => {
      errors.push(error);
      markFailed(error);
    },
  });
  return { opened, errors, unsubscribe: () => sub.unsubscribe() };
}
