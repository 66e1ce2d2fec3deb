import { expect } from 'vitest';
import { Headers, fromUtf8, messageIdentity, type PublishMessage, type StoredMessage } from '@mailroom/core';
import type { CaseDefinition } from '../context';
import { collect, duplicatesOf, expectBytes, header, message, pseudoRandomBytes, waitFor } from '../helpers';

const values = (messages: StoredMessage[]) => messages.map((m) => fromUtf8(m.value));

export const admin: CaseDefinition = {
  name: 'admin',
  title: 'listDestinations depth, browse newest-first with limit and cursor, publish then consume byte-exact',
  timeoutMs: 120_000,
  async run({ adapter, scope, ms, warn }) {
    const browsed = await scope.destination(scope.name('browse'));
    const count = 7;
    const sent = Array.from({ length: count }, (_, i) => message(`m-${i}`, { [Headers.messageId]: `${scope.prefix}-${i}` }, `k-${i % 2}`));
    await scope.producer().sendBatch(browsed, sent);

    const depthOf = async () => (await adapter.listDestinations()).find((d) => d.name === browsed);
    const listed = await waitFor(depthOf, (d) => d?.depth === count, ms(30_000), 500);
    expect(listed, `listDestinations includes ${browsed}`).toBeDefined();
    expect(listed?.depth, 'depth after publishing').toBe(count);
    const described = await adapter.describeDestination(browsed);
    expect(described.name).toBe(browsed);
    expect(described.depth).toBe(count);

    const destructive = adapter.capabilities.peekIsDestructive;
    const page1 = await adapter.browse({ destination: browsed, start: { from: 'newest' }, limit: 3, force: destructive });
    expect(page1.messages.length, 'limit honoured').toBe(3);
    expect(page1.destructive, 'page says whether reading had side effects').toBe(destructive);
    const sentValues = sent.map((s) => fromUtf8(s.value));
    for (const m of page1.messages) expect(sentValues, 'browse returns stored messages').toContain(fromUtf8(m.value));

    if (destructive) {
      warn('browse exactness (order, cursors, filter) not asserted: capabilities.peekIsDestructive; counts are');
      const all = await adapter.browse({ destination: browsed, start: { from: 'oldest' }, limit: 500, force: true });
      expect(all.messages.length, 'a full browse sees every message').toBe(count);
    } else {
      expect(values(page1.messages), 'newest first').toEqual(['m-6', 'm-5', 'm-4']);
      expect(page1.nextCursor, 'more pages remain').not.toBeNull();
      const page2 = await adapter.browse({ destination: browsed, start: { from: 'newest' }, cursor: page1.nextCursor, limit: 3 });
      expect(values(page2.messages), 'second page continues backwards').toEqual(['m-3', 'm-2', 'm-1']);
      const page3 = await adapter.browse({ destination: browsed, start: { from: 'newest' }, cursor: page2.nextCursor, limit: 3 });
      expect(values(page3.messages)).toEqual(['m-0']);
      if (page3.nextCursor !== null) {
        const page4 = await adapter.browse({ destination: browsed, start: { from: 'newest' }, cursor: page3.nextCursor, limit: 3 });
        expect(page4.messages, 'nothing before the oldest').toEqual([]);
      }

      const oldest = await adapter.browse({ destination: browsed, start: { from: 'oldest' }, limit: 500 });
      expect(values(oldest.messages), 'oldest first in position order').toEqual(sent.map((_, i) => `m-${i}`));
      oldest.messages.forEach((m, i) => {
        const original = sent[i];
        if (!original) return;
        expectBytes(m.value, original.value, `browsed m-${i}`);
        expect(m.key).toBe(original.key);
        expect(m.destination).toBe(browsed);
        expect(m.headers).toMatchObject(original.headers);
      });

      const even = await adapter.browse({
        destination: browsed,
        start: { from: 'oldest' },
        limit: 500,
        filter: (m) => Number(messageIdentity(m.headers)?.split('-').pop()) % 2 === 0,
      });
      expect(values(even.messages), 'filter applies within the scan').toEqual(['m-0', 'm-2', 'm-4', 'm-6']);
      expect(even.scanned, 'scanned counts rejected messages too').toBeGreaterThanOrEqual(count);

      const after = await depthOf();
      expect(after?.depth, 'browsing has no side effect on depth').toBe(count);
    }

    const published = await scope.destination(scope.name('publish'));
    const consumer = await scope.subscribed(scope.group('g'), [published]);
    const toPublish: PublishMessage[] = Array.from({ length: 4 }, (_, i) => ({
      key: i === 0 ? null : `clé-${i}`,
      value: pseudoRandomBytes(100 + i * 50, 77 + i),
      headers: { [Headers.messageId]: `${scope.prefix}-pub-${i}`, 'x-conf-note': `ünïcödé ${i}` },
    }));
    const result = await adapter.publish(published, toPublish);
    expect(result.published).toBe(toPublish.length);
    expect(result.ids.length).toBe(toPublish.length);

    const received = await collect(consumer, toPublish.length, { deadlineMs: ms(30_000), settleMs: ms(1000) });
    const ids = received.map((m) => header(m, Headers.messageId));
    expect(duplicatesOf(ids)).toEqual([]);
    expect(received.length).toBe(toPublish.length);
    for (const original of toPublish) {
      const id = original.headers[Headers.messageId];
      const got = received.find((m) => m.headers[Headers.messageId] === id);
      if (!got) expect.fail(`published ${id} was not consumed`);
      expectBytes(got.value, original.value, `published ${id}`);
      expect(got.key).toBe(original.key);
      expect(got.headers).toMatchObject(original.headers);
    }
  },
};
