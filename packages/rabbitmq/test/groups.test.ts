import { describe, expect, it } from 'vitest';
import { membersOf } from '../src/groups';
import type { MgmtConsumer } from '../src/management';

const listed = (tag: string, host: string): MgmtConsumer => ({ consumer_tag: tag, channel_details: { peer_host: host } });

describe('consumer group members', () => {
  it('lists the consumers the management API reports, with their host', () => {
    expect(membersOf([listed('amq.ctag-a', '10.0.0.1'), listed('amq.ctag-b', '10.0.0.2')], 2)).toEqual([
      { id: 'amq.ctag-a', host: '10.0.0.1', pending: null, idleMs: null },
      { id: 'amq.ctag-b', host: '10.0.0.2', pending: null, idleMs: null },
    ]);
  });

  it('adds a placeholder for each consumer counted at once but not listed by the statistics yet', () => {
    expect(membersOf([], 1)).toEqual([{ id: 'consumer 1 of 1 (not yet listed by the management API)', host: null, pending: null, idleMs: null }]);
    expect(membersOf([listed('amq.ctag-a', '10.0.0.1')], 3).map((m) => m.id)).toEqual([
      'amq.ctag-a',
      'consumer 2 of 3 (not yet listed by the management API)',
      'consumer 3 of 3 (not yet listed by the management API)',
    ]);
  });

  it('drops listed consumers when none is left, and keeps the listing when no live count could be read', () => {
    expect(membersOf([listed('amq.ctag-gone', '10.0.0.1')], 0)).toEqual([]);
    expect(membersOf([listed('amq.ctag-a', '10.0.0.1')], null).map((m) => m.id)).toEqual(['amq.ctag-a']);
    expect(membersOf([], null)).toEqual([]);
  });
});
