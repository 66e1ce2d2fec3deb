import { randomBytes } from 'node:crypto';
import { expect, test, type Locator, type Page } from './fixtures';
import { Headers } from '@mailroom/core';
import { serverApi } from './api';
import type { BrokerKit, NativeMessage } from './brokers/kit';
import { CONNECTIONS, runId, type BrokerName } from './env';
import { confirmPeekIfAsked, createDestinationInDashboard, definition, destinationTab, findDestination, openConnection, settled, shot } from './ui';

/** Where the live tail's rows are. */
const tailGrid = (page: Page): Locator => page.getByRole('grid', { name: 'Tailed messages' });
/** Data rows of a virtual table (its header row has no grid cells). */
const dataRows = (grid: Locator): Locator => grid.getByRole('row').filter({ has: grid.page().getByRole('gridcell') });
const rowWith = (grid: Locator, text: string): Locator => dataRows(grid).filter({ hasText: text });

/** The cell of `row` under the column headed `header` (or one of its names). */
async function cellUnder(grid: Locator, row: Locator, header: string | string[]): Promise<Locator> {
  const names = Array.isArray(header) ? header : [header];
  const headers = (await grid.getByRole('columnheader').allTextContents()).map((t) => t.trim());
  const index = headers.findIndex((h) => names.includes(h));
  if (index < 0) throw new Error(`No column ${header} in ${JSON.stringify(headers)}`);
  return row.getByRole('gridcell').nth(index);
}

function note(type: string, description: string): void {
  test.info().annotations.push({ type, description });
  console.log(`[${test.info().project.name}] ${test.info().title}: ${type} ${description}`);
}

/**
 * The tail is "Live" once its SSE stream is open, but the broker-side reader may still be
 * positioning itself: probe with the broker's own client until a probe shows, then clear.
 */
async function waitUntilTailing(page: Page, kit: BrokerKit, destination: string): Promise<void> {
  const grid = tailGrid(page);
  for (let attempt = 1; attempt <= 15; attempt++) {
    await kit.publish(destination, { key: `probe-${attempt}`, value: Buffer.from(`probe ${attempt}`), headers: {} });
    try {
      await expect(rowWith(grid, 'probe-').first()).toBeVisible({ timeout: 1_500 });
      await page.getByRole('button', { name: 'Clear', exact: true }).click();
      await expect(grid).toBeHidden();
      await kit.consumeBacklog?.(destination);
      note('tail-ready', `after ${attempt} probe(s)`);
      return;
    } catch {
      // not tailing yet
    }
  }
  throw new Error(`The live tail of ${destination} showed none of 15 probes`);
}

/** The message viewer shows exactly this key, these headers and this (text) value. */
async function expectViewerShows(page: Page, expected: { key: string; headers: Record<string, string>; value: string }): Promise<void> {
  const viewer = page.getByRole('region', { name: 'Message', exact: true });
  await expect(viewer).toBeVisible();
  await expect(definition(viewer, 'Key')).toHaveText(expected.key);
  await expect(viewer.getByRole('heading', { name: `Headers (${Object.keys(expected.headers).length})` })).toBeVisible();
  const headerRows = viewer.locator('table').first().locator('tr');
  await expect(headerRows).toHaveCount(Object.keys(expected.headers).length);
  for (const [name, value] of Object.entries(expected.headers)) {
    const row = headerRows.filter({ has: page.locator(`td:text-is(${JSON.stringify(name)})`) });
    await expect(row.locator('td').nth(1)).toHaveText(value);
  }
  const shown = viewer.getByTestId('value-text');
  await expect(shown).toBeVisible();
  expect(await shown.textContent()).toBe(expected.value);
}

function expectSameMessage(actual: NativeMessage | undefined, expected: NativeMessage): void {
  expect(actual, `message with key ${expected.key}`).toBeDefined();
  expect(actual!.key).toBe(expected.key);
  expect(actual!.value.equals(expected.value), `value bytes: ${actual!.value.toString('hex')} vs ${expected.value.toString('hex')}`).toBe(true);
  expect(actual!.headers).toEqual(expected.headers);
}

export function defineBrokerJourneys(broker: BrokerName, makeKit: () => BrokerKit): void {
  const connection = CONNECTIONS[broker];
  let kit: BrokerKit;

  test.beforeAll(() => {
    kit = makeKit();
  });
  test.afterAll(async () => {
    await kit?.dispose();
  });

  test(`${broker}: find a destination, publish from the form, see it live, open it; the broker's own client confirms the bytes`, async ({ page, context }, info) => {
    const destination = kit.name('live');
    await kit.createDestination(destination);

    await test.step('open the dashboard, pick the connection, find the destination by search', async () => {
      await openConnection(page, connection.name);
      await findDestination(page, destination);
      await shot(page, info, '1 found by search');
    });

    await test.step('open the live tail', async () => {
      await destinationTab(page, 'Live tail').click();
      await confirmPeekIfAsked(page, 'Start the live tail');
      await expect(page.getByRole('status', { name: 'Tail status: Live' })).toBeVisible({ timeout: 30_000 });
      await waitUntilTailing(page, kit, destination);
      await shot(page, info, '2 live tail open');
    });

    const sent: NativeMessage = {
      key: `order-${randomBytes(3).toString('hex')}`,
      headers: { 'trace-id': `t-${randomBytes(4).toString('hex')}`, 'x-e2e-run': runId() },
      value: Buffer.from(`Grüße aus dem Formular ✓ — ${broker} ${runId()}`, 'utf8'),
    };
    await test.step('publish with key and headers from the form; it shows in the live tail within 2 s', async () => {
      const formPage = await context.newPage();
      await formPage.goto(`/c/${encodeURIComponent(connection.id)}/d/${encodeURIComponent(destination)}/publish`);
      const form = formPage.getByRole('form', { name: 'Publish a message' });
      await form.getByLabel('Key', { exact: true }).fill(sent.key!);
      for (const [i, [name, value]] of Object.entries(sent.headers).entries()) {
        await form.getByRole('button', { name: 'Add header' }).click();
        await form.getByLabel(`Header ${i + 1} name`).fill(name);
        await form.getByLabel(`Header ${i + 1} value`).fill(value);
      }
      await form.getByRole('group', { name: 'Value encoding' }).getByRole('button', { name: 'Text' }).click();
      await form.getByLabel('Value', { exact: true }).fill(sent.value.toString('utf8'));
      await shot(formPage, info, '3 publish form filled');
      const started = Date.now();
      await form.getByRole('button', { name: 'Publish', exact: true }).click();
      const acknowledged = formPage.getByText('Published 1 message', { exact: true }).first().waitFor().then(() => Date.now() - started);
      await page.bringToFront();
      // Waits past the 2 s only to report how late it was.
      await expect(rowWith(tailGrid(page), sent.key!)).toBeVisible({ timeout: 20_000 });
      const shownAfter = Date.now() - started;
      const ackAfter = await acknowledged;
      note('form-to-tail-ms', `${shownAfter} (publish acknowledged after ${ackAfter})`);
      expect(shownAfter, `shown in the live tail ${shownAfter} ms after Publish (acknowledged after ${ackAfter} ms)`).toBeLessThanOrEqual(2_000);
      await formPage.close();
      await shot(page, info, '4 message in live tail');
    });

    await test.step('open it: key, headers and value exactly as sent', async () => {
      await rowWith(tailGrid(page), sent.key!).click();
      await expectViewerShows(page, { key: sent.key!, headers: sent.headers, value: sent.value.toString('utf8') });
      await shot(page, info, '5 message opened');
    });

    await test.step("the broker's own client read it byte-exact", async () => {
      const stored = await kit.readAll(destination);
      expectSameMessage(stored.find((m) => m.key === sent.key), sent);
      expect(stored.filter((m) => m.key === sent.key)).toHaveLength(1);
      await kit.consumeBacklog?.(destination);
    });

    await test.step("a message published by the broker's own client appears in the live tail", async () => {
      await page.getByRole('button', { name: 'Close message' }).click();
      await page.getByRole('button', { name: /^Resume/ }).click();
      const native: NativeMessage = {
        key: `native-${randomBytes(3).toString('hex')}`,
        headers: { source: `${broker}-client` },
        value: Buffer.from(`{"from":"${broker} client","n":42}`, 'utf8'),
      };
      const started = Date.now();
      await kit.publish(destination, native);
      const row = rowWith(tailGrid(page), native.key!);
      // No latency requirement here (an SQS tail backs off up to 5 s by design); bounded for a busy machine.
      await expect(row).toBeVisible({ timeout: 15_000 });
      note('native-to-tail-ms', String(Date.now() - started));
      await row.click();
      const viewer = page.getByRole('region', { name: 'Message', exact: true });
      await expect(definition(viewer, 'Key')).toHaveText(native.key!);
      await viewer.getByRole('button', { name: 'Text', exact: true }).click();
      expect(await viewer.getByTestId('value-text').textContent()).toBe(native.value.toString('utf8'));
      await shot(page, info, '6 native message in live tail');
    });
  });

  test(`${broker}: dead letters show reason and attempts; redrive selected, then all; the broker's client finds each message back once`, async ({ page }, info) => {
    const destination = kit.name('jobs');
    const dlq = await kit.createDestinationWithDeadLetters(destination);
    const jobs: NativeMessage[] = [1, 2, 3, 4, 5].map((i) => ({
      key: `job-${i}`,
      headers: { [Headers.messageId]: `${runId()}-${broker}-job-${i}` },
      value: Buffer.from(`job ${i} of ${runId()}`, 'utf8'),
    }));
    const idOf = (m: NativeMessage): string => m.headers[Headers.messageId] ?? '';
    const originalsKept = kit.keepsConsumedMessages ? 1 : 0;
    /** How often each job is stored on the origin, by message id. */
    const originCounts = async () => {
      const stored = await kit.readAll(destination);
      return Object.fromEntries(jobs.map((j) => [idOf(j), stored.filter((m) => m.headers[Headers.messageId] === idOf(j)).length]));
    };

    await test.step('a consumer fails every message into the DLQ', async () => {
      await kit.failIntoDeadLetters(destination, jobs);
      expect(await kit.depth(dlq)).toBe(jobs.length);
    });

    const grid = page.getByRole('grid', { name: 'Dead letters' });
    await test.step('the DLQ view lists them with origin, reason and attempts', async () => {
      await openConnection(page, connection.name);
      await page.getByRole('navigation', { name: 'Connections' }).getByRole('link', { name: 'Dead letters' }).click();
      const links = page.getByRole('region', { name: 'Dead-letter queues' });
      // RabbitMQ lists queues from the management API (seconds behind, more under load); a fetch
      // may itself take seconds, so each try lets it finish before reloading.
      await expect(async () => {
        await page.reload();
        await settled(page);
        await expect(links.getByRole('link', { name: dlq, exact: true })).toBeVisible({ timeout: 3_000 });
      }).toPass({ timeout: 75_000, intervals: [1_000, 2_000, 3_000] });
      await shot(page, info, '1 dead-letter queues');
      await links.getByRole('link', { name: dlq, exact: true }).click();
      await expect(page.getByRole('heading', { name: dlq, level: 1 })).toBeVisible();
      await confirmPeekIfAsked(page, 'Show the messages');
      await expect(dataRows(grid)).toHaveCount(jobs.length, { timeout: 30_000 });
      for (const job of jobs) {
        const row = rowWith(grid, job.value.toString('utf8'));
        const facts = kit.deadLetterFacts(job.key!);
        await expect(await cellUnder(grid, row, 'Origin')).toHaveText(destination);
        await expect(await cellUnder(grid, row, 'Reason')).toHaveText(facts.reason);
        await expect(await cellUnder(grid, row, ['Attempts', 'Tries'])).toHaveText(String(facts.attempts));
      }
      await shot(page, info, '2 dead letters with reason and attempts');
    });

    const selected = jobs.slice(0, 2);
    await test.step('redrive the selected ones and watch the progress', async () => {
      // Rows are found by value: a RabbitMQ dead letter routed through the default exchange has no key.
      for (const job of selected) await rowWith(grid, job.value.toString('utf8')).getByRole('checkbox').check();
      await page.getByRole('button', { name: `Redrive selected (${selected.length})` }).click();
      const dialog = page.getByRole('dialog', { name: 'Redrive dead letters?' });
      await expect(dialog.getByTestId('redrive-count')).toContainText(String(selected.length));
      await shot(page, info, '3 redrive selected confirm');
      await dialog.getByRole('button', { name: `Redrive ${selected.length} messages` }).click();
      const progress = page.getByRole('region', { name: 'Redrive progress' });
      await expect(progress.getByRole('progressbar', { name: 'Redrive progress' })).toBeVisible({ timeout: 30_000 });
      await expect(progress).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
      await expect(progress.getByText(`Redrive completed: ${selected.length} moved`)).toBeVisible({ timeout: 15_000 });
      await shot(page, info, '4 redrive selected completed');
    });

    await test.step("the broker's client: the selected ones are back on the origin once", async () => {
      if (kit.visibleDepth) {
        const expected = jobs.length * originalsKept + selected.length;
        await expect.poll(() => kit.visibleDepth!(destination), { timeout: 60_000, intervals: [250, 500, 1_000] }).toBe(expected);
      }
      const counts = await originCounts();
      for (const job of jobs) expect(counts[idOf(job)], idOf(job)).toBe(originalsKept + (selected.includes(job) ? 1 : 0));
      await expect.poll(() => kit.depth(dlq), { timeout: 30_000, intervals: [250, 500, 1_000] }).toBe(broker === 'kafka' ? jobs.length : jobs.length - selected.length);
    });

    await test.step('redrive all and watch the progress', async () => {
      await page.getByRole('button', { name: 'Dismiss' }).click();
      const rest = broker === 'kafka' ? jobs.length : jobs.length - selected.length;
      const all = page.getByRole('button', { name: `Redrive all (${rest})` });
      await expect(all).toBeEnabled({ timeout: 30_000 });
      await all.click();
      const dialog = page.getByRole('dialog', { name: 'Redrive dead letters?' });
      await dialog.getByRole('button', { name: new RegExp(`^Redrive ${rest} messages?$`) }).click();
      const progress = page.getByRole('region', { name: 'Redrive progress' });
      await expect(progress).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
      // Kafka's DLT still holds the selected ones (it cannot delete single records); its redrive
      // ledger makes "all" skip them, so only the others move.
      await expect(progress.getByText(`Redrive completed: ${jobs.length - selected.length} moved`)).toBeVisible({ timeout: 15_000 });
      await expect(page.getByText('This dead-letter queue is empty')).toBeVisible({ timeout: 30_000 });
      await shot(page, info, '5 redrive all completed');
    });

    await test.step("the broker's client: the DLQ is empty and the origin holds every message once", async () => {
      // Broker statistics settle a moment after the move; poll (bounded) with the broker's own client.
      await expect.poll(() => kit.depth(dlq), { timeout: 30_000, intervals: [250, 500, 1_000] }).toBe(0);
      // SQS: a message a browse held in flight becomes receivable only when its timeout ends; wait for
      // all of them before reading (reading is a receive, so it is not repeated).
      if (kit.visibleDepth) {
        const expected = jobs.length * (originalsKept + 1);
        await expect.poll(() => kit.visibleDepth!(destination), { timeout: 60_000, intervals: [250, 500, 1_000] }).toBe(expected);
      }
      const counts = await originCounts();
      expect(counts).toEqual(Object.fromEntries(jobs.map((j) => [idOf(j), originalsKept + 1])));
      const stored = await kit.readAll(destination);
      for (const job of jobs) {
        const copies = stored.filter((m) => m.headers[Headers.messageId] === idOf(job));
        expect(copies.every((m) => m.value.equals(job.value))).toBe(true);
      }
    });
  });

  test(`${broker}: consumer-group lag in the UI equals the broker's own figure`, async ({ page }, info) => {
    const destination = kit.name('lag');
    await kit.createDestination(destination);
    const lagging = await kit.makeLaggingGroup(destination);
    await openConnection(page, connection.name);
    await findDestination(page, destination);
    await destinationTab(page, 'Consumers').click();
    if (lagging === null) {
      await expect(page.getByText('No consumer groups on this broker')).toBeVisible();
      await shot(page, info, '1 no consumer groups');
      return;
    }
    const row = page.getByRole('row').filter({ has: page.getByRole('button', { name: lagging.group, exact: true }) });
    // RabbitMQ reads groups from the management API, which can take seconds on a busy broker.
    await expect(row).toBeVisible({ timeout: 30_000 });
    const lagCell = row.getByRole('cell').nth(3);
    await expect(lagCell).toHaveText(String(lagging.lag));
    if (lagging.pending !== null) await expect(row.getByRole('cell').nth(4)).toHaveText(String(lagging.pending));
    // The broker still says the same (nothing consumed meanwhile).
    expect(await kit.lagOf(lagging.group, destination)).toBe(lagging.lag);
    await expect(page.getByRole('heading', { name: new RegExp(`Lag per partition · ${lagging.group.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) })).toBeVisible();
    await shot(page, info, '1 consumer group lag');
    note('lag', `${lagging.group}: ${lagging.lag}`);
  });

  defineFitnessJourney(broker, () => kit);
}

/**
 * "Re-measure now" on the fitness page until `check` holds (the
 * broker's listings may lag a moment behind a change: RabbitMQ's management statistics).
 */
async function remeasureUntil(page: Page, check: () => Promise<void>): Promise<void> {
  const button = page.getByRole('button', { name: /^(Re-measure now|Measuring…)$/ });
  await expect(async () => {
    await expect(button).toBeEnabled({ timeout: 30_000 });
    const measured = page.waitForResponse((r) => r.url().includes('/trpc/') && decodeURIComponent(r.url()).includes('"refresh":true'), { timeout: 60_000 });
    await button.click();
    expect((await measured).ok()).toBe(true);
    await check();
  }).toPass({ timeout: 90_000, intervals: [1_000, 2_000, 3_000] });
}

export function defineFitnessJourney(broker: BrokerName, kit: () => BrokerKit): void {
  const connection = CONNECTIONS[broker];
  test(`${broker}: fitness: a consumed destination without a DLQ fails dead-letter handling with the fix; given its DLQ, it passes`, async ({ page }, info) => {
    const destination = kit().name('fitness');
    const scope = `${destination}*`;

    await test.step('create the destination with the New destination form; a consumer group reads it', async () => {
      await createDestinationInDashboard(page, connection, destination);
      kit().adopt(destination);
    });
    const group = await kit().consumeWithGroup(destination);
    const remedy = kit().deadLetterRemedy(destination, group);
    note('fitness-judged', `${remedy.judged.join(', ')}${group === null ? ' (no consumer groups on this broker)' : ` (group ${group})`}`);

    const criterion = page.getByRole('region', { name: 'Dead-letter handling', exact: true });
    const evidenceRow = (name: string) => criterion.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });
    const toFixRow = (name: string) =>
      page.getByRole('region', { name: 'To fix' }).getByRole('row').filter({ has: page.getByRole('link', { name: 'Dead-letter handling' }) }).filter({ has: page.getByRole('link', { name, exact: true }) });

    await test.step('the fitness page limited to it: dead-letter handling fails, naming the destination and the fix', async () => {
      await page.goto(`/c/${encodeURIComponent(connection.id)}/fitness?destinations=${encodeURIComponent(scope)}`);
      await expect(page.getByRole('heading', { name: 'Fitness', level: 1 })).toBeVisible();
      await expect(page.getByRole('textbox', { name: 'Destinations (glob)' })).toHaveValue(scope);
      await expect(page.getByText(`Limited to destinations matching ${scope}.`)).toBeVisible({ timeout: 60_000 });
      await remeasureUntil(page, async () => {
        await expect(criterion).toHaveAttribute('data-state', 'fail', { timeout: 2_000 });
        for (const name of remedy.judged) await expect(evidenceRow(name)).toHaveAttribute('data-status', 'fail', { timeout: 2_000 });
      });
      const row = evidenceRow(destination);
      await expect(row.locator('td.evidence')).toHaveText('no dead-letter queue configured');
      await expect(row.locator('td.fix')).toContainText(remedy.fixNames);
      await expect(toFixRow(destination)).toBeVisible();
      await expect(toFixRow(destination).locator('td.fix')).toContainText(remedy.fixNames);
      await expect(page.locator(`[role="listitem"][data-criterion="dead_letter_handling"]`)).toHaveAttribute('data-state', 'fail');
      await shot(page, info, '1 dead-letter handling failing');
    });

    await test.step(`give it its DLQ as the fix says: ${remedy.create} with the New destination form${remedy.configure ? ", then the broker's own client" : ''}`, async () => {
      await createDestinationInDashboard(page, connection, remedy.create);
      kit().adopt(remedy.create);
      await remedy.configure?.();
    });

    await test.step('"Re-measure now": dead-letter handling passes and the to-do list no longer names it', async () => {
      await page.goto(`/c/${encodeURIComponent(connection.id)}/fitness?destinations=${encodeURIComponent(scope)}`);
      await expect(page.getByText(`Limited to destinations matching ${scope}.`)).toBeVisible({ timeout: 60_000 });
      await remeasureUntil(page, async () => {
        await expect(criterion).toHaveAttribute('data-state', 'pass', { timeout: 2_000 });
      });
      await criterion.getByRole('button', { name: /^Show .*passing/ }).click();
      for (const name of remedy.judged) {
        await expect(evidenceRow(name)).toHaveAttribute('data-status', 'pass');
        await expect(evidenceRow(name).locator('td.evidence')).toContainText(`dead letters go to ${remedy.create}`);
        if (remedy.via !== null) await expect(evidenceRow(name).locator('td.evidence')).toContainText(remedy.via);
        await expect(toFixRow(name)).toHaveCount(0);
      }
      await expect(page.locator(`[role="listitem"][data-criterion="dead_letter_handling"]`)).toHaveAttribute('data-state', 'pass');
      await shot(page, info, '2 dead-letter handling passing');
    });
  });
}

export { serverApi };
