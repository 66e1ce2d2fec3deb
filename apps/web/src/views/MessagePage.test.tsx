import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { connection, message, page, rabbitLikeCaps } from '../test/fixtures';
import { brokerDownError, never, renderApp, type Handlers } from '../test/harness';

const base: Handlers = {
  'connections.list': () => [connection(), connection({ id: 'rabbit', name: 'Rabbit', kind: 'rabbitmq', capabilities: rabbitLikeCaps })],
  'connections.health': async function* () {},
};

describe('Message link', () => {
  it('reads exactly one message at its partition and offset', async () => {
    const { calls } = renderApp('/c/memory/d/orders/m/0%3A7?partition=0&position=7', { ...base, 'messages.browse': () => page([message(7)]) });
    expect(await screen.findByRole('region', { name: 'Message' })).toBeTruthy();
    expect(screen.getByText('c-7')).toBeTruthy();
    expect(calls.find((c) => c.path === 'messages.browse')!.input).toEqual({ connectionId: 'memory', destination: 'orders', start: { from: 'position', position: '7' }, limit: 1, partition: 0 });
  });

  it('loading', async () => {
    renderApp('/c/memory/d/orders/m/0%3A7?partition=0&position=7', { ...base, 'messages.browse': never });
    expect(await screen.findByRole('status', { name: 'Loading message' })).toBeTruthy();
  });

  it('not found (e.g. deleted by retention)', async () => {
    renderApp('/c/memory/d/orders/m/0%3A7?partition=0&position=7', { ...base, 'messages.browse': () => page([]) });
    expect(await screen.findByText('Message not found')).toBeTruthy();
    expect(screen.getByText(/Nothing is stored at position 7 of partition 0/)).toBeTruthy();
  });

  it('broker down', async () => {
    renderApp('/c/memory/d/orders/m/0%3A7?position=7', { ...base, 'messages.browse': () => { throw brokerDownError(); } });
    await waitFor(() => expect(document.querySelector('[data-state="broker-down"]')).not.toBeNull());
  });

  it('on a destructive-peek broker, searches by id only after confirmation', async () => {
    const { calls } = renderApp('/c/rabbit/d/jobs/m/abc-1', { ...base, 'messages.browse': () => page([message(1, { id: 'abc-0' }), message(2, { id: 'abc-1', key: 'wanted' })]) });
    fireEvent.click(await screen.findByRole('button', { name: /Read the message anyway/ }));
    expect(await screen.findByText('wanted')).toBeTruthy();
    expect(calls.find((c) => c.path === 'messages.browse')!.input).toEqual({ connectionId: 'rabbit', destination: 'jobs', start: { from: 'newest' }, limit: 500, force: true });
  });
});
