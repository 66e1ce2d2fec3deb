import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { saveRepublishDraft } from '../lib/republish';
import { connection, destination, downConnection, message, rabbitLikeCaps } from '../test/fixtures';
import { brokerDownError, never, renderApp, serverError, type Handlers } from '../test/harness';

const base: Handlers = {
  'connections.list': () => [connection(), connection({ id: 'ro', name: 'Prod (read-only)', readOnly: true }), connection({ id: 'rabbit', name: 'Rabbit', kind: 'rabbitmq', capabilities: rabbitLikeCaps })],
  'connections.health': async function* () {},
  'destinations.list': () => ({ items: [destination('orders'), destination('payments')], total: 2, fetchedAt: '' }),
  'destinations.describe': (input: { name: string }) => ({ ...destination(input.name), partitionDetails: [], config: {} }),
};

function valueBox() {
  return screen.getByRole('textbox', { name: 'Value' });
}

describe('Publish', () => {
  it('loading while connections load', async () => {
    renderApp('/c/memory/publish', { ...base, 'connections.list': never });
    expect((await screen.findAllByRole('status', { name: /Loading/ })).length).toBeGreaterThan(0);
  });

  it('validates JSON and publishes key, headers, partition and N copies exactly as typed', async () => {
    const sent: unknown[] = [];
    renderApp('/c/memory/publish', { ...base, 'messages.publish': (input: unknown) => { sent.push(input); return { published: 3, ids: ['0:1', '0:2', '0:3'] }; } });
    const form = await screen.findByRole('form', { name: 'Publish a message' });
    fireEvent.change(within(form).getByRole('combobox', { name: 'Destination' }), { target: { value: 'orders' } });
    fireEvent.change(within(form).getByRole('textbox', { name: 'Key' }), { target: { value: 'c-9' } });
    fireEvent.click(within(form).getByRole('button', { name: /Add header/ }));
    fireEvent.change(within(form).getByRole('textbox', { name: 'Header 1 name' }), { target: { value: 'trace-id' } });
    fireEvent.change(within(form).getByRole('textbox', { name: 'Header 1 value' }), { target: { value: 'abc' } });
    fireEvent.change(within(form).getByRole('textbox', { name: 'Partition' }), { target: { value: '2' } });
    fireEvent.change(valueBox(), { target: { value: '{"a": 1,}' } });
    expect(within(form).getByRole('alert').textContent).toMatch(/^Invalid JSON: line 1, column 9/);
    expect((within(form).getByRole('button', { name: /^Publish/ }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(valueBox(), { target: { value: '{"a": 1}' } });
    fireEvent.change(within(form).getByRole('spinbutton', { name: 'Copies' }), { target: { value: '3' } });
    const submit = within(form).getByRole('button', { name: 'Publish 3 copies' }) as HTMLButtonElement;
    expect(submit.disabled).toBe(false);
    fireEvent.click(submit);
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({
      connectionId: 'memory', destination: 'orders', copies: 3,
      messages: [{ key: 'c-9', headers: { 'trace-id': 'abc' }, value: { encoding: 'json', data: '{"a": 1}' }, properties: { partition: 2 } }],
    });
    expect(await screen.findByText('Published 3 messages')).toBeTruthy();
  });

  it('rejects invalid base64 and shows server errors', async () => {
    renderApp('/c/memory/d/orders/publish', { ...base, 'messages.publish': () => { throw serverError('PAYLOAD_TOO_LARGE', 'value is 2 MiB; orders accepts at most 1 MiB'); } });
    const form = await screen.findByRole('form', { name: 'Publish a message' });
    fireEvent.click(within(form).getByRole('button', { name: 'Base64' }));
    fireEvent.change(valueBox(), { target: { value: 'abc' } });
    expect(within(form).getByRole('alert').textContent).toContain('Not valid base64');
    fireEvent.change(valueBox(), { target: { value: 'AAEC/w==' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Publish' }));
    expect(await screen.findByText('value is 2 MiB; orders accepts at most 1 MiB')).toBeTruthy();
  });

  it('broker down: says so with the reason, shows no form and asks nothing of that broker', async () => {
    const { calls } = renderApp('/c/staging/publish', { ...base, 'connections.list': () => [connection(), downConnection()] });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Broker unreachable');
    expect(alert.textContent).toContain('connect ECONNREFUSED 127.0.0.1:9099');
    expect(screen.getByText('Down')).toBeTruthy(); // the health badge in the header
    expect(screen.queryByRole('form', { name: 'Publish a message' })).toBeNull();
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.filter((c) => (c.input as { connectionId?: string } | undefined)?.connectionId === 'staging')).toEqual([]);
  });

  it('a publish refused because the broker went down shows the broker-down state with its hint', async () => {
    renderApp('/c/memory/d/orders/publish', { ...base, 'messages.publish': () => { throw brokerDownError(); } });
    const form = await screen.findByRole('form', { name: 'Publish a message' });
    fireEvent.change(valueBox(), { target: { value: '{"a":1}' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Publish' }));
    await waitFor(() => expect(document.querySelector('[data-state="broker-down"]')).not.toBeNull());
    const state = document.querySelector('[data-state="broker-down"]')!;
    expect(state.textContent).toContain('Broker unreachable');
    expect(state.textContent).toContain('broker memory is unreachable: connect ECONNREFUSED 127.0.0.1:9092');
    expect(state.textContent).toContain('Check that the broker is running.');
    expect(screen.queryByText(/^Published/)).toBeNull();
  });

  it('is disabled with the reason on a read-only connection', async () => {
    renderApp('/c/ro/publish', base);
    const form = await screen.findByRole('form', { name: 'Publish a message' });
    expect(within(form).getByText('Read-only connection')).toBeTruthy();
    expect((within(form).getByRole('button', { name: 'Publish' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('shows only the broker properties the capabilities list, and no partition where there are none', async () => {
    renderApp('/c/rabbit/publish', base);
    const form = await screen.findByRole('form', { name: 'Publish a message' });
    expect(within(form).queryByRole('textbox', { name: 'Partition' })).toBeNull();
    expect(within(form).getByText('Broker properties (3)')).toBeTruthy();
    expect(within(form).getByText('Routing key')).toBeTruthy();
    expect(within(form).queryByText('Message group ID')).toBeNull();
  });

  it('request-reply shows the reply', async () => {
    const sent: unknown[] = [];
    renderApp('/c/memory/d/orders/publish', {
      ...base,
      'messages.request': (input: unknown) => { sent.push(input); return { reply: message(9, { destination: 'replies', key: 'reply-key' }), elapsedMs: 42, correlationId: 'corr-1' }; },
    });
    const form = await screen.findByRole('form', { name: 'Publish a message' });
    fireEvent.click(within(form).getByRole('button', { name: 'Request–reply' }));
    fireEvent.change(valueBox(), { target: { value: '{"ping":true}' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Send and wait for reply' }));
    expect(await screen.findByText('Reply received after 42 ms')).toBeTruthy();
    expect(screen.getByText('reply-key')).toBeTruthy();
    expect(sent[0]).toMatchObject({ connectionId: 'memory', destination: 'orders', timeoutMs: 5000, message: { value: { encoding: 'json', data: '{"ping":true}' } } });
  });

  it('re-publish opens the form prefilled from the message (a dead letter goes back to its origin)', async () => {
    const dead = message(5, { destination: 'orders.dlq', key: 'k-5', headers: { a: 'b' }, deadLetter: { origin: 'orders', reason: 'boom', attempts: 3, failedAt: null, history: [] } });
    saveRepublishDraft(dead);
    renderApp(`/c/memory/d/orders/publish?from=${encodeURIComponent(dead.id)}`, base);
    const form = await screen.findByRole('form', { name: 'Publish a message' });
    expect(within(form).getByText('Prefilled from an existing message')).toBeTruthy();
    expect((within(form).getByRole('combobox', { name: 'Destination' }) as HTMLInputElement).value).toBe('orders');
    expect((within(form).getByRole('textbox', { name: 'Key' }) as HTMLInputElement).value).toBe('k-5');
    expect((within(form).getByRole('textbox', { name: 'Header 1 name' }) as HTMLInputElement).value).toBe('a');
    expect((valueBox() as HTMLTextAreaElement).value).toBe('{"orderId":"o-5","amount":50}');
  });
});
