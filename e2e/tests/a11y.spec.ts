import { expect, test, type Page } from '../src/fixtures';
import { serverApi } from '../src/api';
import { MemoryKit } from '../src/brokers/memory';
import { SqsKit } from '../src/brokers/sqs';
import { CONNECTIONS, signInAccount } from '../src/env';
import { expectAccessible, shot } from '../src/ui';

/**
 * axe on every view of the SPA (light theme; the overview and destination list in dark too),
 * with content in it: a destination with messages, a dead-letter queue with dead letters.
 * Serious and critical violations fail.
 */
const conn = CONNECTIONS.memory.id;
const kit = new MemoryKit(serverApi());
const sqs = new SqsKit();
const sqsQueue = sqs.name('a11y-peek');
const orders = kit.name('a11y-orders');
let dlq = '';
let messageUrl = '';

test.beforeAll(async () => {
  await sqs.createDestination(sqsQueue);
  dlq = await kit.createDestinationWithDeadLetters(orders);
  for (let i = 1; i <= 3; i++) {
    await kit.publish(orders, { key: `customer-${i}`, headers: { 'message-id': `a11y-${i}`, 'content-type': 'application/json' }, value: Buffer.from(JSON.stringify({ order: i, amount: i * 9.5 })) });
  }
  await kit.failIntoDeadLetters(orders, [{ key: 'customer-9', headers: { 'message-id': 'a11y-9' }, value: Buffer.from('{"order":9,"sku":"SKU-BROKEN"}') }]);
  const page = await serverApi().messages.browse.query({ connectionId: conn, destination: orders, start: { from: 'newest' }, limit: 1 });
  const m = page.messages[0]!;
  messageUrl = `/c/${conn}/d/${encodeURIComponent(orders)}/m/${encodeURIComponent(m.id)}?partition=${m.partition ?? ''}&position=${m.position ?? ''}`;
});
test.afterAll(async () => {
  await kit.dispose();
  await sqs.dispose();
});

const d = (tab = '') => `/c/${conn}/d/${encodeURIComponent(orders)}${tab}`;

async function ready(page: Page): Promise<void> {
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  // Loading skeletons are not what an operator reads: wait until they are gone (the overview
  // waits for every broker's answers in one batch, which takes long on a busy machine).
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 60_000 });
}

const signInForm = (page: Page) => page.getByRole('form', { name: 'Sign in with a Mailroom account' });

const views: { name: string; open: (page: Page) => Promise<void> }[] = [
  { name: 'overview', open: async (p) => { await p.goto('/'); } },
  { name: 'destinations', open: async (p) => { await p.goto(`/c/${conn}/destinations`); await expect(p.getByRole('grid', { name: 'Destinations' })).toBeVisible(); } },
  {
    name: 'destination messages with a message open',
    open: async (p) => {
      await p.goto(d());
      const grid = p.getByRole('grid', { name: 'Messages' });
      await grid.getByRole('row').filter({ hasText: 'customer-1' }).click();
      await expect(p.getByRole('region', { name: 'Message', exact: true })).toBeVisible();
    },
  },
  {
    name: 'live tail with a message',
    open: async (p) => {
      await p.goto(d('/tail'));
      await expect(p.getByRole('status', { name: 'Tail status: Live' })).toBeVisible({ timeout: 30_000 });
      await expect(async () => {
        await kit.publish(orders, { key: 'tail-probe', headers: {}, value: Buffer.from('{"probe":true}') });
        await expect(p.getByRole('grid', { name: 'Tailed messages' })).toBeVisible({ timeout: 3_000 });
      }).toPass({ timeout: 45_000 });
    },
  },
  { name: 'consumers', open: async (p) => { await p.goto(d('/consumers')); } },
  { name: 'metrics', open: async (p) => { await p.goto(d('/metrics')); } },
  { name: 'configuration', open: async (p) => { await p.goto(d('/config')); } },
  { name: 'destination publish form', open: async (p) => { await p.goto(d('/publish')); await expect(p.getByRole('form', { name: 'Publish a message' })).toBeVisible(); } },
  { name: 'publish page', open: async (p) => { await p.goto(`/c/${conn}/publish`); await expect(p.getByRole('form', { name: 'Publish a message' })).toBeVisible(); } },
  { name: 'message page', open: async (p) => { await p.goto(messageUrl); await expect(p.getByRole('region', { name: 'Message', exact: true })).toBeVisible(); } },
  { name: 'dead-letter queues', open: async (p) => { await p.goto(`/c/${conn}/dead-letters`); await expect(p.getByRole('region', { name: 'Dead-letter queues' })).toBeVisible(); } },
  {
    name: 'dead-letter queue with the redrive dialog',
    open: async (p) => {
      await p.goto(`/c/${conn}/dead-letters`);
      await p.getByRole('region', { name: 'Dead-letter queues' }).getByRole('link', { name: dlq, exact: true }).click();
      await expect(p.getByRole('grid', { name: 'Dead letters' })).toBeVisible();
      await p.getByRole('button', { name: /^Redrive all/ }).click();
      await expect(p.getByRole('dialog', { name: 'Redrive dead letters?' })).toBeVisible();
    },
  },
  {
    name: 'read warning before a destructive peek (SQS)',
    open: async (p) => {
      await p.goto(`/c/${CONNECTIONS.sqs.id}/d/${encodeURIComponent(sqsQueue)}`);
      await expect(p.getByRole('button', { name: 'Browse anyway' })).toBeVisible();
    },
  },
  { name: 'fitness of a connection', open: async (p) => { await p.goto(`/c/${conn}/fitness`); await expect(p.getByRole('region', { name: 'To fix' })).toBeVisible({ timeout: 60_000 }); } },
  { name: 'fitness of all connections', open: async (p) => { await p.goto('/fitness'); await expect(p.getByRole('list', { name: 'Fitness scores' }).first()).toBeVisible({ timeout: 60_000 }); } },
  {
    name: 'audit log',
    open: async (p) => {
      await p.goto('/audit');
      // beforeAll's changes are in it: the destinations it created, the messages it published.
      await expect(p.getByRole('region', { name: 'Audit entries' }).getByRole('row').filter({ hasText: orders }).first()).toBeVisible({ timeout: 30_000 });
    },
  },
  { name: 'sign-in', open: async (p) => { await p.goto('/signin'); await expect(signInForm(p)).toBeVisible(); } },
  {
    name: 'sign-in after a refused attempt',
    open: async (p) => {
      await p.goto('/signin');
      await signInForm(p).getByLabel('User name').fill(signInAccount().username);
      await signInForm(p).getByLabel('Password').fill('not the password');
      await signInForm(p).getByRole('button', { name: 'Sign in' }).click();
      await expect(p.getByRole('alert').filter({ hasText: 'Not signed in' })).toBeVisible();
    },
  },
  { name: 'page not found', open: async (p) => { await p.goto('/no/such/view'); } },
];

for (const view of views) {
  test(`axe: ${view.name}`, async ({ page }, info) => {
    await view.open(page);
    await ready(page);
    await shot(page, info, view.name);
    await expectAccessible(page, info, view.name);
  });
}

for (const path of ['/', `/c/${conn}/destinations`]) {
  test(`axe (dark theme): ${path}`, async ({ page }, info) => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(path);
    await ready(page);
    await expect(page.getByRole('button', { name: 'Switch to light theme' })).toBeVisible();
    await shot(page, info, 'dark');
    await expectAccessible(page, info, `${path} (dark)`);
  });
}

test('signing in with the local account returns to where the operator was, as that user', async ({ page }) => {
  const account = signInAccount();
  await page.goto(`/signin?returnTo=${encodeURIComponent('/audit')}`);
  await signInForm(page).getByLabel('User name').fill(account.username);
  await signInForm(page).getByLabel('Password').fill(account.password);
  await signInForm(page).getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole('heading', { name: 'Audit log', level: 1 })).toBeVisible();
  await expect(page.getByRole('banner').getByText(account.username, { exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
});

test('the app\'s own link to a destination with a dot (<name>.dlq) survives a reload', async ({ page }) => {
  await page.goto(`/c/${conn}/dead-letters`);
  const link = page.getByRole('region', { name: 'Dead-letter queues' }).getByRole('link', { name: dlq, exact: true });
  const href = await link.getAttribute('href');
  expect(href).not.toBeNull();
  await page.goto(href!);
  await expect(page.getByRole('heading', { name: dlq, level: 1 })).toBeVisible();
});

test('a hand-typed URL with a raw dot (<name>.dlq) loads the SPA', async ({ page }) => {
  await page.goto(`/c/${conn}/dead-letters/${encodeURIComponent(dlq)}`);
  await expect(page.getByRole('heading', { name: dlq, level: 1 })).toBeVisible();
});
