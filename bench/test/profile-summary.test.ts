import { describe, expect, it } from 'vitest';
import { summarise } from '../src/profile-summary';

describe('cpu profile summary', () => {
  it('adds self time per function and inclusive time up the stack, leaving idle out', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
    const profile = {
      startTime: 0,
      endTime: 100,
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 4] },
        { id: 2, callFrame: frame('flush', 'file:///work/main/apps/server/src/streams/tail-session.ts'), children: [3] },
        { id: 3, callFrame: frame('toBase64', 'file:///work/main/packages/core/src/bytes.ts') },
        { id: 4, callFrame: frame('(idle)') },
      ],
      samples: [3, 3, 2, 4, 3],
      timeDeltas: [1000, 1000, 500, 7000, 1000],
    };
    const s = summarise(profile);
    expect(s.totalMs).toBe(10.5);
    expect(s.idleMs).toBe(7);
    expect(s.bySelf[0]).toEqual({ name: 'toBase64 packages/core/src/bytes.ts:1', ms: 3 });
    expect(s.byFile).toEqual([
      { name: 'packages/core/src/bytes.ts', ms: 3 },
      { name: 'apps/server/src/streams/tail-session.ts', ms: 0.5 },
    ]);
    expect(s.byInclusive.find((e) => e.name.startsWith('flush'))?.ms).toBe(3.5);
  });
});
