import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { connection, destination, detail, kafkaLikeCaps, rabbitLikeCaps } from '../test/fixtures';
import { renderApp, serverError, type Handlers } from '../test/harness';

const base: Handlers = {
  'connections.list': () => [
    connection(),
    connection({ id: 'rabbit', name: 'Rabbit', kind: 'rabbitmq', capabilities: rabbitLikeCaps }),
    connection({ id: 'ro', name: 'Read only', readOnly: true }),
    connection({ id: 'fixed', name: 'Fixed', capabilities: { ...kafkaLikeCaps, createDestination: false, deleteDestination: false } }),
  ],
  'connections.health': async function* () {},
  'destinations.list': () => ({ items: [destination('orders')], total: 1, fetchedAt: '2026-01-01T00:00:00Z' }),
  'destinations.describe': (input: { name: string }) => detail(input.name, { depth: 1234, deadLetter: `${input.name}.dlq` }),
  'destinations.deadLetterName': (input: { name: string }) => ({ name: `${input.name}.dlq` }),
  'messages.browse': () => ({ messages: [], nextCursor: null, scanned: 0, destructive: false, warnings: [] }),
};

async function openCreate() {
  fireEvent.click(await screen.findByRole('button', { name: 'New destination' }));
  return screen.findByRole('dialog', { name: /^New destination on/ });
}

describe('Destinations: create', () => {
  it('validates, suggests the conventional DLQ name, sends exactly what was entered and opens the new destination', async () => {
    const created: unknown[] = [];
    const { location } = renderApp('/c/memory/destinations', { ...base, 'destinations.create': (input: { name: string }) => { created.push(input); return { created: input.name }; } });
    const dialog = await openCreate();
    const name = within(dialog).getByRole('textbox', { name: 'Name' });
    expect(document.activeElement).toBe(name);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(within(dialog).getByRole('alert').textContent).toBe('Enter a name.');
    expect(created).toHaveLength(0);

    fireEvent.change(name, { target: { value: 'payments.v2' } });
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Partitions' }), { target: { value: '6' } });
    fireEvent.click(within(dialog).getByRole('checkbox', { name: /dead-letter queue/ }));
    const dlq = within(dialog).getByRole('textbox', { name: 'Dead-letter queue' }) as HTMLInputElement;
    await waitFor(() => expect(dlq.value).toBe('payments.v2.dlq'));
    expect(within(dialog).getByText("The broker's naming convention; created if it does not exist.")).toBeTruthy();
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Max deliveries' }), { target: { value: '3' } });
    fireEvent.submit(name.closest('form')!);

    expect(await screen.findByText('Created payments.v2 with dead-letter queue payments.v2.dlq')).toBeTruthy();
    expect(created).toEqual([{ connectionId: 'memory', name: 'payments.v2', partitions: 6, deadLetter: { destination: 'payments.v2.dlq', maxDeliveries: 3 } }]);
    await waitFor(() => expect(location.history.at(-1)).toBe('/c/memory/d/payments.v2'));
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('shows "Creating…" while the broker works, then a CONFLICT with its hint, keeping what was typed', async () => {
    let fail: (e: Error) => void = () => undefined;
    renderApp('/c/rabbit/destinations', { ...base, 'destinations.create': () => new Promise((_, reject) => (fail = reject)) });
    const dialog = await openCreate();
    expect(within(dialog).queryByRole('textbox', { name: 'Partitions' })).toBeNull();
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Name' }), { target: { value: 'jobs' } });
    fireEvent.change(within(dialog).getByRole('textbox', { name: /Type/ }), { target: { value: 'quorum' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    const busy = await within(dialog).findByRole('button', { name: 'Creating…' });
    expect((busy as HTMLButtonElement).disabled).toBe(true);
    await act(async () => fail(serverError('CONFLICT', 'Queue jobs already exists with type classic', { mailroomCode: 'CONFLICT', hint: 'Delete it first or pick another name.', httpStatus: 409 })));
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toBe('jobs already existsQueue jobs already exists with type classicDelete it first or pick another name.');
    expect((within(dialog).getByRole('textbox', { name: 'Name' }) as HTMLInputElement).value).toBe('jobs');
    expect((within(dialog).getByRole('button', { name: 'Create' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('sends the type without partitions where the broker has none', async () => {
    const created: unknown[] = [];
    renderApp('/c/rabbit/destinations', { ...base, 'destinations.create': (input: { name: string }) => { created.push(input); return { created: input.name }; } });
    const dialog = await openCreate();
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Name' }), { target: { value: 'jobs' } });
    fireEvent.change(within(dialog).getByRole('textbox', { name: /Type/ }), { target: { value: ' stream ' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(created).toEqual([{ connectionId: 'rabbit', name: 'jobs', type: 'stream' }]));
  });

  it('is disabled with the reason on a read-only connection and absent where the broker cannot create', async () => {
    const { unmount } = renderApp('/c/ro/destinations', base);
    const button = await screen.findByRole('button', { name: 'New destination' });
    expect((button as HTMLButtonElement).disabled).toBe(true);
    expect(button.getAttribute('title')).toBe('This connection is read-only: creating destinations is disabled.');
    unmount();
    renderApp('/c/fixed/destinations', base);
    await screen.findByRole('grid', { name: 'Destinations' });
    expect(screen.queryByRole('button', { name: 'New destination' })).toBeNull();
  });
});

describe('Destination: delete', () => {
  it('asks for the typed name behind a red dialog, deletes exactly that and returns to the list', async () => {
    const deleted: unknown[] = [];
    const { location } = renderApp('/c/memory/d/orders.v1', { ...base, 'destinations.delete': (input: { name: string }) => { deleted.push(input); return { deleted: input.name }; } });
    fireEvent.click(await screen.findByRole('button', { name: 'Delete…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete orders.v1?' });
    expect(dialog.className).toContain('danger');
    expect(within(dialog).getByText(/the 1,234 messages in it/)).toBeTruthy();
    expect(within(dialog).getByText('orders.v1.dlq')).toBeTruthy();
    const confirm = within(dialog).getByRole('button', { name: 'Delete destination' }) as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    const typed = within(dialog).getByRole('textbox');
    fireEvent.change(typed, { target: { value: 'orders' } });
    expect(confirm.disabled).toBe(true);
    fireEvent.change(typed, { target: { value: 'orders.v1' } });
    expect(confirm.disabled).toBe(false);
    fireEvent.keyDown(typed, { key: 'Enter' });
    expect(await screen.findByText('Deleted orders.v1')).toBeTruthy();
    expect(deleted).toEqual([{ connectionId: 'memory', name: 'orders.v1' }]);
    await waitFor(() => expect(location.history.at(-1)).toBe('/c/memory/destinations'));
  });

  it('shows "Deleting…" and then the server refusal in the dialog', async () => {
    let fail: (e: Error) => void = () => undefined;
    renderApp('/c/memory/d/orders', { ...base, 'destinations.delete': () => new Promise((_, reject) => (fail = reject)) });
    fireEvent.click(await screen.findByRole('button', { name: 'Delete…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Delete orders?' });
    fireEvent.change(within(dialog).getByRole('textbox'), { target: { value: 'orders' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete destination' }));
    expect(((await within(dialog).findByRole('button', { name: 'Deleting…' })) as HTMLButtonElement).disabled).toBe(true);
    await act(async () => fail(serverError('FORBIDDEN', 'Deleting destinations needs the admin role on memory', { mailroomCode: 'FORBIDDEN', hint: 'Ask an administrator.', httpStatus: 403 })));
    await waitFor(() => expect(within(dialog).getAllByRole('alert')).toHaveLength(2));
    expect(within(dialog).getAllByRole('alert')[1]!.textContent).toBe('Not allowedDeleting destinations needs the admin role on memoryAsk an administrator.');
  });

  it('is disabled with the reason on a read-only connection and absent where the broker cannot delete', async () => {
    const { unmount } = renderApp('/c/ro/d/orders', base);
    const button = await screen.findByRole('button', { name: 'Delete…' });
    expect((button as HTMLButtonElement).disabled).toBe(true);
    expect(button.getAttribute('title')).toBe('This connection is read-only: deleting destinations is disabled.');
    unmount();
    renderApp('/c/fixed/d/orders', base);
    await screen.findByText('1,234');
    expect(screen.queryByRole('button', { name: 'Delete…' })).toBeNull();
  });
});
