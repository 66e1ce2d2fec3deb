import { render, screen } from '@testing-library/react';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { message } from '../test/fixtures';
import { MessageTable } from './MessageTable';

// Read from disk: the test run does not process CSS (vitest css: false).
const css = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'styles.css'), 'utf8');
const px = (re: RegExp) => {
  const m = re.exec(css);
  if (m === null) throw new Error(`styles.css has no match for ${re}`);
  return Number(m[1]);
};

/** The least width a grid-template-columns list needs: fixed tracks plus each minmax minimum. */
function minimumWidth(tracks: string): number {
  return [...tracks.matchAll(/minmax\((\d+)px,[^)]*\)|(\d+)px/g)].reduce((sum, m) => sum + Number(m[1] ?? m[2]), 0);
}

const SCROLLBAR = 17; // a classic (non-overlay) scrollbar
const BORDERS = 2;

function renderDeadLetters(messages: ReturnType<typeof message>[], partitions: boolean) {
  render(<MessageTable label="Dead letters" messages={messages} partitions={partitions} selectedKey={null} onSelect={() => undefined} height={400} showDeadLetter checked={new Set()} onToggle={() => undefined} />);
  const grid = screen.getByRole('grid', { name: 'Dead letters' });
  return { grid, tracks: grid.style.getPropertyValue('--cols'), headers: screen.getAllByRole('columnheader').map((h) => h.textContent) };
}

describe('MessageTable: dead letters beside an open message', () => {
  // Messages from another day show their date, the widest the time column gets.
  const dated = [1, 2, 3].map((i) => message(i, { deadLetter: { origin: 'orders', reason: 'inventory service rejected SKU-BROKEN: unknown SKU', attempts: 3, failedAt: null, history: [] } }));

  it('every column fits in the width the dead-letter split reserves for the list, and that fits at 1440 px', () => {
    const listMin = px(/\.split\.split-wide-list\s*\{\s*grid-template-columns:\s*minmax\((\d+)px/);
    const panelMin = px(/\.split\.split-wide-list\s*\{[^}]*minmax\(\d+px,[^)]*\)\s+minmax\((\d+)px/);
    const stackBelow = px(/@media \(max-width: (\d+)px\) \{ \.split\.split-wide-list/);
    for (const partitions of [true, false]) {
      const { tracks, headers } = renderDeadLetters(dated, partitions);
      expect(headers).toEqual(['Select', partitions ? 'Offset' : 'Position / ID', ...(partitions ? ['Part.'] : []), 'Time', 'Key', 'Origin', 'Reason', 'Tries', 'Value', 'Size']);
      expect(minimumWidth(tracks) + SCROLLBAR + BORDERS).toBeLessThanOrEqual(listMin);
      document.body.innerHTML = '';
    }
    // Side by side from stackBelow + 1 px up: sidebar, page padding, a page scrollbar, list, gap, viewer.
    const sidebar = px(/--sidebar-w:\s*(\d+)px/);
    const gap = px(/\.split \{[^}]*gap:\s*(\d+)px/);
    const needed = sidebar + 2 * 20 + SCROLLBAR + listMin + gap + panelMin;
    expect(needed).toBeLessThanOrEqual(stackBelow + 1);
    expect(stackBelow).toBeLessThan(1440);
  });

  it('gives the reason the most room of the flexible columns, and takes the date-less time column narrower', () => {
    const today = new Date().toISOString();
    const { tracks: datedTracks } = renderDeadLetters(dated, true);
    document.body.innerHTML = '';
    const { tracks: todayTracks } = renderDeadLetters(dated.map((m) => ({ ...m, timestamp: today })), true);
    const reason = /minmax\((\d+)px, ([\d.]+)fr\)/g;
    const flexible = [...todayTracks.matchAll(reason)].map((m) => ({ min: Number(m[1]), fr: Number(m[2]) }));
    const widest = Math.max(...flexible.map((f) => f.min));
    expect(flexible.find((f) => f.min === widest)!.fr).toBe(Math.max(...flexible.map((f) => f.fr)));
    expect(minimumWidth(todayTracks)).toBeLessThan(minimumWidth(datedTracks));
  });
});
