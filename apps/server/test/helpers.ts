import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCClient } from '@trpc/client';
import { EventSource } from 'eventsource';
import { createApp, type CreateAppOptions, type MailroomApp } from '../src/app';
import type { AppRouter } from '../src/router';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const SQS_ENDPOINT = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:9324';

export function uniqueName(prefix = 'mr-test'): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailroom-server-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * An app with no environment-derived connections: only what the test declares. Unless the test
 * sets `security`, loopback clients are anonymous admins (auth.anonymous), which is how the
 * broker tests reach every procedure over HTTP; test/safety-*.test.ts cover sign-in and roles.
 */
export async function testApp(options: CreateAppOptions = {}): Promise<MailroomApp> {
  return createApp({
    env: {},
    memory: { enabled: false },
    webDist: null,
    log: () => undefined,
    health: { intervalMs: 500, timeoutMs: 1_000, maxBackoffMs: 1_000 },
    security: { auth: { anonymous: { role: 'admin' } } },
    ...options,
  });
}

export interface Served {
  app: MailroomApp;
  url: string;
  server: Server;
  client: TRPCClient<AppRouter>;
}

export async function serve(app: MailroomApp): Promise<Served> {
  const { url, server } = await app.listen(0, '127.0.0.1');
  return { app, url, server, client: trpcClient(url) };
}

/**
 * A client as the web app builds it: the CSRF header on every request (`csrf`: the session's
 * token; anonymous loopback access takes any value) and, when given, the session cookie.
 */
export function trpcClient(url: string, auth: { cookie?: string; csrf?: string } = {}): TRPCClient<AppRouter> {
  const headers = { 'x-mailroom-csrf': auth.csrf ?? '1', ...(auth.cookie ? { cookie: auth.cookie } : {}) };
  const eventSourceInit = auth.cookie ? { fetch: (input: string | URL | Request, init?: RequestInit) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie: auth.cookie! } }) } : undefined;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: `${url}/trpc`, EventSource, ...(eventSourceInit ? { eventSourceOptions: () => eventSourceInit } : {}) }),
        false: httpBatchLink({ url: `${url}/trpc`, headers }),
      }),
    ],
  });
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function fromB64(text: string): Buffer {
  return Buffer.from(text, 'base64');
}
