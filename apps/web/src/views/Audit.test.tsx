import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { connection } from '../test/fixtures';
import { never, renderApp, serverError, type Handlers } from '../test/harness';

interface AuditInput { connectionId?: string; action?: string; result?: string; search?: string; offset: number; limit: number }

function entry(i: number, over: Record<string, unknown> = {}) {
  return {
    id: `a-${i}`, at: new Date(Date.UTC(2026, 0, 1, 12, 0, 0) - i * 1000).toISOString(), user: i % 2 === 0 ? 'alice' : 'bob', via: 'password', sessionId: null, ip: '10.0.0.7',
    action: 'messages.publish', connectionId: 'memory', destination: `orders-${i}`, detail: `published to orders-${i}`, count: i, result: 'ok', error: null, ...over,
  };
}

const base: Handlers = {
  'connections.list': () => [connection(), connection({ id: 'rabbit', name: 'Rabbit', kind: 'rabbitmq' })],
  'connections.health': async function* () {},
};

/** 120 entries, newest first, answered page by page like the server. */
const entries = Array.from({ length: 120 }, (_, i) => entry(i));
const paged = (input: AuditInput) => ({ items: entries.slice(input.offset, input.offset + input.limit), total: entries.length });

const auditCalls = (calls: { path: string; input: unknown }[]) => calls.filter((c) => c.path === 'audit.list').map((c) => c.input as AuditInput);

describe('Audit log', () => {
  it('loading', async () => {
    renderApp('/audit', { ...base, 'audit.list': never });
    expect(await screen.findByRole('status', { name: 'Loading the audit log' })).toBeTruthy();
    expect(screen.getByText('Every change and sign-in')).toBeTruthy();
  });

  it('empty', async () => {
    renderApp('/audit', { ...base, 'audit.list': () => ({ items: [], total: 0 }) });
    const region = await screen.findByRole('region', { name: 'Audit entries' });
    expect(await within(region).findByText('No entries')).toBeTruthy();
    expect(region.textContent).toContain('your role does not show entries of these connections');
    expect(screen.getByText('0 entries')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Older' })).toBeNull();
  });

  it('error: says what failed and retries', async () => {
    let fail = true;
    renderApp('/audit', { ...base, 'audit.list': () => { if (fail) throw serverError('FORBIDDEN', 'Reading the audit log needs the operator role', { httpStatus: 403 }); return { items: [entry(1)], total: 1 }; } });
    const region = await screen.findByRole('region', { name: 'Audit entries' });
    const alert = await within(region).findByRole('alert');
    expect(alert.textContent).toContain('Not allowed');
    expect(alert.textContent).toContain('Reading the audit log needs the operator role');
    expect(region.querySelector('[data-state="error"]')).not.toBeNull();
    fail = false;
    fireEvent.click(within(region).getByRole('button', { name: /Retry/ }));
    expect(await within(region).findByText('published to orders-1')).toBeTruthy();
    expect(screen.getByText('1 entry')).toBeTruthy();
  });

  it('data: each entry with who, action, where, count, result and detail or error', async () => {
    renderApp('/audit', {
      ...base,
      'audit.list': () => ({
        items: [
          entry(0),
          entry(1, { action: 'redrive.start', destination: 'orders.dlq', count: null, result: 'refused', error: 'FORBIDDEN: connection memory is read-only', detail: 'to each origin' }),
          entry(2, { action: 'auth.signIn', connectionId: null, destination: null, count: null, detail: null, result: 'failed', error: 'wrong password' }),
        ],
        total: 3,
      }),
    });
    const table = await screen.findByRole('table');
    const rows = within(table).getAllByRole('row');
    expect(within(rows[0]!).getAllByRole('columnheader').map((h) => h.textContent)).toEqual(['When', 'Who', 'Action', 'Connection', 'Destination', 'Messages', 'Result', 'Detail']);
    const cells = (r: number) => within(rows[r]!).getAllByRole('cell').map((c) => c.textContent).slice(1);
    expect(cells(1)).toEqual(['alice', 'messages.publish', 'memory', 'orders-0', '0', 'ok', 'published to orders-0']);
    expect(cells(2)).toEqual(['bob', 'redrive.start', 'memory', 'orders.dlq', '—', 'refused', 'FORBIDDEN: connection memory is read-only']);
    expect(cells(3)).toEqual(['alice', 'auth.signIn', '—', '—', '—', 'failed', 'wrong password']);
    expect(within(rows[1]!).getAllByRole('cell')[0]!.getAttribute('title')).toBe('2026-01-01T12:00:00.000Z');
    expect(within(rows[2]!).getByText('bob').getAttribute('title')).toBe('password from 10.0.0.7');
    expect(screen.getByText('3 entries')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Older' })).toBeNull(); // one page
  });

  it('pages 50 at a time, newer and older', async () => {
    const { calls } = renderApp('/audit', { ...base, 'audit.list': paged });
    const table = await screen.findByRole('table');
    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(51));
    expect(auditCalls(calls)[0]).toEqual({ offset: 0, limit: 50 });
    expect(screen.getByText('1–50 of 120')).toBeTruthy();
    const newer = screen.getByRole('button', { name: 'Newer' }) as HTMLButtonElement;
    const older = screen.getByRole('button', { name: 'Older' }) as HTMLButtonElement;
    expect(newer.disabled).toBe(true);
    fireEvent.click(older);
    expect(await screen.findByText('51–100 of 120')).toBeTruthy();
    await waitFor(() => expect(within(screen.getByRole('table')).getByText('orders-50')).toBeTruthy());
    fireEvent.click(older);
    expect(await screen.findByText('101–120 of 120')).toBeTruthy();
    await waitFor(() => expect(within(screen.getByRole('table')).getAllByRole('row')).toHaveLength(21));
    expect(older.disabled).toBe(true);
    fireEvent.click(newer);
    expect(await screen.findByText('51–100 of 120')).toBeTruthy();
    expect(auditCalls(calls).map((c) => c.offset)).toEqual(expect.arrayContaining([0, 50, 100]));
  });

  it('filters by connection, action, result and search, back to the first page, and the export links carry the same filters', async () => {
    const { calls } = renderApp('/audit', { ...base, 'audit.list': paged });
    await screen.findByText('1–50 of 120');
    const csv = () => screen.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    const json = () => screen.getByRole('link', { name: 'Export JSON' }).getAttribute('href');
    expect(csv()).toBe('/api/audit/export?format=csv');
    expect(json()).toBe('/api/audit/export?format=json');
    expect(screen.getByRole('link', { name: 'Export CSV' }).hasAttribute('download')).toBe(true);

    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    await screen.findByText('51–100 of 120');
    const connectionSelect = screen.getByRole('combobox', { name: 'Connection' });
    expect(within(connectionSelect).getAllByRole('option').map((o) => o.textContent)).toEqual(['All', 'Demo', 'Rabbit']);
    fireEvent.change(connectionSelect, { target: { value: 'rabbit' } });
    await waitFor(() => expect(auditCalls(calls).at(-1)).toEqual({ connectionId: 'rabbit', offset: 0, limit: 50 }));
    fireEvent.change(screen.getByRole('combobox', { name: 'Action' }), { target: { value: 'redrive.start' } });
    fireEvent.change(screen.getByRole('combobox', { name: 'Result' }), { target: { value: 'refused' } });
    fireEvent.change(screen.getByRole('textbox', { name: 'Search' }), { target: { value: '  orders.dlq ' } });
    await waitFor(() => expect(auditCalls(calls).at(-1)).toEqual({ connectionId: 'rabbit', action: 'redrive.start', result: 'refused', search: 'orders.dlq', offset: 0, limit: 50 }));
    expect(auditCalls(calls).some((c) => c.search === ' orders.dlq' || c.search === '  orders.dlq ')).toBe(false);
    expect(csv()).toBe('/api/audit/export?format=csv&connectionId=rabbit&action=redrive.start&result=refused&search=orders.dlq');
    expect(json()).toBe('/api/audit/export?format=json&connectionId=rabbit&action=redrive.start&result=refused&search=orders.dlq');
  });
});
