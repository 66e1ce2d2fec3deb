import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { connection, destination, downConnection } from '../test/fixtures';
import { brokerDownError, never, renderApp } from '../test/harness';

type ListInput = { connectionId: string; search?: string; sort?: string; dir?: string; offset: number; limit: number; deadLettersOnly?: boolean };

/** A server-side list over `all`, with the same search/sort/paging contract as the real one. */
function listOf(all: ReturnType<typeof destination>[]) {
  return (input: ListInput) => {
    let items = all.filter((d) => (input.search ? d.name.includes(input.search) : true) && (input.deadLettersOnly ? d.isDeadLetter : true));
    if (input.sort === 'depth') items = [...items].sort((a, b) => ((input.dir === 'asc' ? 1 : -1) * ((a.depth ?? 0) - (b.depth ?? 0))));
    return { items: items.slice(input.offset, input.offset + input.limit), total: items.length, fetchedAt: '2026-01-01T00:00:00Z' };
  };
}

const base = { 'connections.list': () => [connection(), downConnection()], 'connections.health': async function* () {} };

describe('Destinations', () => {
  it('loading', async () => {
    renderApp('/c/memory/destinations', { ...base, 'destinations.list': never });
    expect(await screen.findByRole('status', { name: 'Loading destinations' })).toBeTruthy();
  });

  it('empty', async () => {
    renderApp('/c/memory/destinations', { ...base, 'destinations.list': listOf([]) });
    expect(await screen.findByText('No destinations yet')).toBeTruthy();
  });

  it('error from the broker', async () => {
    renderApp('/c/memory/destinations', { ...base, 'destinations.list': () => { throw brokerDownError(); } });
    await waitFor(() => expect(document.querySelector('[data-state="broker-down"]')).not.toBeNull());
    expect(screen.getByRole('alert').textContent).toContain('broker memory is unreachable');
  });

  it('broker down: says so and does not ask for the list', async () => {
    const { calls } = renderApp('/c/staging/destinations', { ...base, 'destinations.list': listOf([]) });
    expect(await screen.findByText('Broker unreachable')).toBeTruthy();
    expect(screen.getByText(/ECONNREFUSED 127\.0\.0\.1:9099/)).toBeTruthy();
    expect(calls.filter((c) => c.path === 'destinations.list')).toHaveLength(0);
  });

  it('renders 10,000 destinations virtualised: pages of 500 and only the visible rows in the DOM', async () => {
    const all = Array.from({ length: 10_000 }, (_, i) => destination(`topic-${String(i).padStart(5, '0')}`, { depth: i, isDeadLetter: i % 1000 === 0, deadLetter: i % 1000 === 1 ? 'topic-01000' : null }));
    const { calls } = renderApp('/c/memory/destinations', { ...base, 'destinations.list': listOf(all) });
    const grid = await screen.findByRole('grid', { name: 'Destinations' });
    expect(grid.getAttribute('aria-rowcount')).toBe('501'); // first page (500) + header
    await waitFor(() => expect(within(grid).getAllByRole('row').length).toBeGreaterThan(1));
    const rendered = within(grid).getAllByRole('row').length - 1;
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(60);
    expect(screen.getByText('500 of 10,000 loaded')).toBeTruthy();
    expect(within(grid).getAllByText('DLQ').length).toBeGreaterThan(0);
    const first = calls.find((c) => c.path === 'destinations.list')!.input as ListInput;
    expect(first).toMatchObject({ connectionId: 'memory', offset: 0, limit: 500, sort: 'name', dir: 'asc' });
    // Scrolling to the end of what is loaded fetches the next page.
    const body = within(grid).getByLabelText('Destinations rows');
    body.scrollTop = 500 * 34 - 600;
    fireEvent.scroll(body);
    await waitFor(() => expect(calls.some((c) => c.path === 'destinations.list' && (c.input as ListInput).offset === 500)).toBe(true));
    expect(await screen.findByText('1,000 of 10,000 loaded')).toBeTruthy();
    expect(grid.getAttribute('aria-rowcount')).toBe('1001');
    expect(within(grid).getAllByRole('row').length).toBeLessThan(60);
  });

  it('searches on the server, with `/` focusing the box and the query kept in the URL', async () => {
    const all = [destination('orders'), destination('payments'), destination('orders.dlq', { isDeadLetter: true })];
    const { calls, location } = renderApp('/c/memory/destinations', { ...base, 'destinations.list': listOf(all) });
    await screen.findByRole('grid', { name: 'Destinations' });
    fireEvent.keyDown(window, { key: '/' });
    const box = screen.getByRole('searchbox', { name: 'Search destinations' });
    expect(document.activeElement).toBe(box);
    fireEvent.change(box, { target: { value: 'pay' } });
    await waitFor(() => expect(calls.some((c) => c.path === 'destinations.list' && (c.input as ListInput).search === 'pay')).toBe(true));
    await waitFor(() => expect(screen.queryByRole('link', { name: 'orders' })).toBeNull());
    expect(await screen.findByRole('link', { name: 'payments' })).toBeTruthy();
    expect(location.history.at(-1)).toBe('/c/memory/destinations?q=pay');
  });

  it('sorts by depth on the server when the header is clicked, toggling direction', async () => {
    const all = [destination('a', { depth: 5 }), destination('b', { depth: 50 }), destination('c', { depth: 1 })];
    const { calls } = renderApp('/c/memory/destinations', { ...base, 'destinations.list': listOf(all) });
    const grid = await screen.findByRole('grid', { name: 'Destinations' });
    fireEvent.click(within(grid).getByRole('button', { name: 'Depth' }));
    await waitFor(() => expect(calls.some((c) => (c.input as ListInput | undefined)?.sort === 'depth' && (c.input as ListInput).dir === 'desc')).toBe(true));
    await waitFor(() => {
      const names = within(grid).getAllByRole('row').slice(1).map((r) => r.querySelector('a')!.textContent);
      expect(names).toEqual(['b', 'a', 'c']);
    });
    expect(within(grid).getByRole('columnheader', { name: /Depth/ }).getAttribute('aria-sort')).toBe('descending');
    fireEvent.click(within(grid).getByRole('button', { name: /Depth/ }));
    await waitFor(() => expect(within(grid).getByRole('columnheader', { name: /Depth/ }).getAttribute('aria-sort')).toBe('ascending'));
  });

  it('opens a destination with the keyboard: arrows move, Enter opens', async () => {
    const { location } = renderApp('/c/memory/destinations', { ...base, 'destinations.list': listOf([destination('a'), destination('b.x')]) });
    const grid = await screen.findByRole('grid', { name: 'Destinations' });
    const body = within(grid).getByLabelText('Destinations rows');
    fireEvent.keyDown(body, { key: 'ArrowDown' });
    fireEvent.keyDown(body, { key: 'Enter' });
    await waitFor(() => expect(location.history.at(-1)).toBe('/c/memory/d/b.x'));
  });
});
