import { toBase64 } from '@mailroom/core';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { connection, detail, message, page, rabbitLikeCaps } from '../test/fixtures';
import { brokerDownError, pushStream, renderApp, type Handlers } from '../test/harness';

const FULL = 100_000;
const CUT = 64 * 1024;
const fullBytes = new TextEncoder().encode(`${'x'.repeat(FULL - 3)}END`);
const cut = message(5, { partition: 1, position: '5', id: '1:5', valueBase64: toBase64(fullBytes.slice(0, CUT)), size: FULL, truncated: true, headers: {} });
const whole = { ...cut, valueBase64: toBase64(fullBytes), truncated: false };

const base: Handlers = {
  'connections.list': () => [connection(), connection({ id: 'rabbit', name: 'Rabbit', kind: 'rabbitmq', capabilities: rabbitLikeCaps })],
  'connections.health': async function* () {},
  'destinations.describe': (input: { name: string }) => detail(input.name),
};

async function openTailed(path: string, handlers: Handlers) {
  const stream = pushStream<unknown>();
  const result = renderApp(path, { ...base, 'messages.tail': () => stream, ...handlers });
  const start = await screen.findByText(/Waiting for messages|Reading these messages changes them/);
  if (/Reading these/.test(start.textContent ?? '')) fireEvent.click(screen.getByRole('button', { name: /Start the live tail anyway/ }));
  stream.push({ kind: 'batch', messages: [cut], skipped: 0, gap: false, notice: null });
  const grid = await screen.findByRole('grid', { name: 'Tailed messages' }, { timeout: 2000 });
  await waitFor(() => expect(within(grid).getAllByRole('row')).toHaveLength(2));
  fireEvent.click(within(grid).getAllByRole('row')[1]!);
  const viewer = await screen.findByRole('region', { name: 'Message' });
  return { ...result, viewer, stream };
}

describe('Live tail: a value cut at 64 KiB', () => {
  it('loads the whole value by position, and only then allows copying and re-publishing it', async () => {
    let answer: (v: unknown) => void = () => undefined;
    const { viewer, calls, stream } = await openTailed('/c/memory/d/orders/tail', { 'messages.browse': () => new Promise((r) => (answer = r)) });
    expect(within(viewer).getByRole('note').textContent).toContain('The server sent only the first 64 KiB of 97.7 KiB.');
    expect((within(viewer).getByRole('button', { name: /Copy value/ }) as HTMLButtonElement).disabled).toBe(true);
    expect((within(viewer).getByRole('button', { name: /Re-publish/ }) as HTMLButtonElement).disabled).toBe(true);

    fireEvent.click(within(viewer).getByRole('button', { name: 'Load full value (97.7 KiB)' }));
    const loading = await within(viewer).findByRole('button', { name: /Loading/ });
    expect((loading as HTMLButtonElement).disabled).toBe(true);
    expect(calls.filter((c) => c.path === 'messages.browse').map((c) => c.input)).toEqual([
      { connectionId: 'memory', destination: 'orders', start: { from: 'position', position: '5' }, limit: 1, partition: 1 },
    ]);
    await act(async () => answer(page([whole])));

    expect((await within(viewer).findByRole('status')).textContent).toBe(' Whole value loaded from the broker: 97.7 KiB.');
    expect(within(viewer).queryByText(/The server sent only/)).toBeNull();
    fireEvent.click(within(viewer).getByRole('button', { name: 'Text' }));
    fireEvent.click(within(viewer).getByRole('button', { name: 'Show all' }));
    const value = within(viewer).getByTestId('value-text').textContent!;
    expect(value).toHaveLength(FULL);
    expect(value.endsWith('xEND')).toBe(true);
    expect((within(viewer).getByRole('button', { name: /Copy value/ }) as HTMLButtonElement).disabled).toBe(false);
    expect(within(viewer).getByRole('link', { name: /Re-publish/ })).toBeTruthy();
    stream.end();
  });

  it('shows a whole JSON value as JSON once loaded (the cut one was not valid JSON)', async () => {
    const json = new TextEncoder().encode(JSON.stringify({ rows: Array.from({ length: 4000 }, (_, i) => ({ line: i, sku: `SKU-${i}` })) }));
    const cutJson = { ...cut, valueBase64: toBase64(json.slice(0, CUT)), size: json.byteLength };
    const stream = pushStream<unknown>();
    renderApp('/c/memory/d/orders/tail', { ...base, 'messages.tail': () => stream, 'messages.browse': () => page([{ ...cutJson, valueBase64: toBase64(json), truncated: false }]) });
    stream.push({ kind: 'batch', messages: [cutJson], skipped: 0, gap: false, notice: null });
    const grid = await screen.findByRole('grid', { name: 'Tailed messages' }, { timeout: 2000 });
    await waitFor(() => expect(within(grid).getAllByRole('row')).toHaveLength(2));
    fireEvent.click(within(grid).getAllByRole('row')[1]!);
    const viewer = await screen.findByRole('region', { name: 'Message' });
    expect(within(viewer).getByRole('button', { name: 'Text' }).getAttribute('aria-pressed')).toBe('true');
    expect((within(viewer).getByRole('button', { name: 'JSON' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(within(viewer).getByRole('button', { name: /Load full value/ }));
    await within(viewer).findByText(/Whole value loaded/);
    expect(within(viewer).getByRole('button', { name: 'JSON' }).getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(within(viewer).getByRole('button', { name: 'Show all' }));
    expect(JSON.parse(within(viewer).getByTestId('value-json').textContent!)).toEqual(JSON.parse(new TextDecoder().decode(json)));
    stream.end();
  });

  it('shows the server error with its hint, and says so when the message is gone', async () => {
    let fail = true;
    const { viewer, stream } = await openTailed('/c/memory/d/orders/tail', {
      'messages.browse': () => {
        if (fail) throw brokerDownError();
        return page([message(6, { partition: 1, position: '6' })]);
      },
    });
    fireEvent.click(within(viewer).getByRole('button', { name: /Load full value/ }));
    const alert = await within(viewer).findByRole('alert');
    expect(alert.textContent).toBe('Broker unreachablebroker memory is unreachable: connect ECONNREFUSED 127.0.0.1:9092Check that the broker is running.');
    fail = false;
    fireEvent.click(within(viewer).getByRole('button', { name: /Load full value/ }));
    await waitFor(() => expect(within(viewer).getByRole('alert').textContent).toBe('Nothing is stored at offset 5 of partition 1 any more: retention or a purge removed it.'));
    expect(within(viewer).getByText(/The server sent only/)).toBeTruthy();
    stream.end();
  });

  it('explains why it cannot load where the broker does not read by position', async () => {
    const { viewer, calls, stream } = await openTailed('/c/rabbit/d/jobs/tail', {});
    expect(within(viewer).getByRole('note').textContent).toContain('This broker cannot read a single message by position, so the whole value cannot be loaded here.');
    expect(within(viewer).queryByRole('button', { name: /Load full value/ })).toBeNull();
    expect(calls.some((c) => c.path === 'messages.browse')).toBe(false);
    stream.end();
  });
});
