import { tracked, type TrackedEnvelope } from '@trpc/server';
import { compileFilter } from '@mailroom/core';
import type { TailSettings } from '../config/settings';
import type { Connection } from '../connections/connection';
import { toTRPCError } from '../errors';
import type { MessageMask } from '../masking/masker';
import type { MetricsService } from '../metrics/metrics-service';
import type { WireMessage } from '../wire';
import { TailSession } from './tail-session';

export interface TailInput {
  destination: string;
  partition: number | null;
  filter: string | null;
  force: boolean;
  lastEventId: string | null;
  /** The connection's masking rules, applied before messages are buffered (and before the filter sees them). */
  mask: MessageMask;
}

/** One SSE event of messages.tail. */
export interface TailStreamEvent {
  /** 'open': the adapter's tail is positioned, so everything published from now on is delivered (sent first, so even an idle tail has an event id to resume from). 'batch': messages. 'end': the destination's tail ended. */
  kind: 'open' | 'batch' | 'end';
  messages: WireMessage[];
  /** Messages left out before this batch because the reader fell behind (or the resume ring no longer had them). */
  skipped: number;
  /** A resume was asked for but the server no longer had that tail: messages sent in between may be missing. */
  gap: boolean;
  notice: string | null;
}

interface ParsedEventId {
  session: string;
  seq: number;
  total: number;
}

function parseEventId(id: string | null): ParsedEventId | null {
  if (!id) return null;
  const match = /^([0-9a-f]{12})\.(\d+)\.(\d+)$/.exec(id);
  if (!match) return null;
  return { session: match[1]!, seq: Number(match[2]), total: Number(match[3]) };
}

/** The open tail sessions of the server; a reconnect with a last event id re-attaches to its session. */
export class TailHub {
  private readonly sessions = new Map<string, { session: TailSession; key: string }>();

  constructor(
    private readonly settings: TailSettings,
    private readonly metrics: MetricsService,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  async *stream(connection: Connection, input: TailInput, signal: AbortSignal): AsyncGenerator<TrackedEnvelope<TailStreamEvent>> {
    const predicate = input.filter !== null && input.filter.trim() !== '' ? compileFilter(input.filter) : null;
    const mask = input.mask;
    const filter = predicate === null ? null : (m: Parameters<typeof predicate>[0]) => predicate(mask(m));
    const key = JSON.stringify([connection.id, input.destination, input.partition, input.filter?.trim() || null, input.force]);
    const resume = parseEventId(input.lastEventId);
    const existing = resume ? this.sessions.get(resume.session) : undefined;

    let session: TailSession;
    let afterSeq = 0;
    let afterTotal = 0;
    let opening: TailStreamEvent | null = null;
    if (existing && existing.key === key && !existing.session.closed) {
      session = existing.session;
      afterSeq = resume!.seq;
      afterTotal = resume!.total;
    } else {
      const adapter = await connection.reachableAdapter().catch((error) => {
        throw toTRPCError(error);
      });
      try {
        adapter.validateDestinationName(input.destination);
      } catch (error) {
        throw toTRPCError(error);
      }
      session = new TailSession({ connection, destination: input.destination, partition: input.partition, filter, force: input.force, mask }, this.settings, (s) => {
        if (this.sessions.get(s.id)?.session === s) this.sessions.delete(s.id);
      });
      this.sessions.set(session.id, { session, key });
      opening = {
        kind: 'open',
        messages: [],
        skipped: 0,
        gap: resume !== null,
        notice: resume !== null ? 'The previous tail had ended on the server, so messages published while disconnected may be missing; this is a new tail from now on.' : null,
      };
    }

    session.attach();
    const closeGauge = this.metrics.subscriberOpened('messages.tail');
    try {
      if (opening) {
        // 'open' promises the client that what is published from now on is delivered: wait until the adapter's tail is positioned.
        if (!signal.aborted) await Promise.race([session.ready, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]);
        if (signal.aborted) return;
        if (session.failed) throw toTRPCError(session.failed);
        this.metrics.eventSent('messages.tail');
        yield tracked(`${session.id}.0.0`, opening);
      }
      while (!signal.aborted) {
        const { events, lost } = session.eventsAfter(afterSeq, afterTotal);
        if (events.length === 0) {
          if (session.isEnded) {
            if (session.failed) throw toTRPCError(session.failed);
            this.metrics.eventSent('messages.tail');
            yield tracked(`${session.id}.${afterSeq}.${afterTotal}`, { kind: 'end', messages: [], skipped: 0, gap: false, notice: 'The tail ended.' } satisfies TailStreamEvent);
            return;
          }
          await session.waitForEvent(afterSeq, signal);
          continue;
        }
        let carry = lost;
        for (const event of events) {
          if (signal.aborted) break;
          const skipped = event.skipped + carry;
          carry = 0;
          this.metrics.eventSent('messages.tail');
          this.metrics.tailDelivered(connection.id, event.messages.length, skipped);
          yield tracked(`${session.id}.${event.seq}.${event.total}`, { kind: 'batch', messages: event.messages, skipped, gap: false, notice: null } satisfies TailStreamEvent);
          afterSeq = event.seq;
          afterTotal = event.total;
        }
      }
    } finally {
      closeGauge();
      session.detach();
    }
  }

  /** Aborts every tail now (server shutdown). */
  async close(): Promise<void> {
    const sessions = [...this.sessions.values()].map((s) => s.session);
    for (const session of sessions) session.close();
    await Promise.allSettled(sessions.map((s) => s.done));
  }
}
