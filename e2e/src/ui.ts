import AxeBuilder from '@axe-core/playwright';
import { expect, type Locator, type Page, type TestInfo } from '@playwright/test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KNOWN_A11Y_ISSUES } from './a11y-known-issues';

const screenshotsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../screenshots');

/** Saves e2e/screenshots/<file>/<test title>--<step>.png (git-ignored): one per journey step. */
export async function shot(page: Page, info: TestInfo, step: string): Promise<void> {
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const file = path.join(screenshotsDir, slug(path.basename(info.file, '.spec.ts')), `${slug(info.title)}--${slug(step)}.png`);
  await page.screenshot({ path: file, fullPage: false });
}

export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Opens the dashboard and picks a connection in the sidebar. */
export async function openConnection(page: Page, connectionName: string): Promise<void> {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Connections' });
  await nav.getByRole('link', { name: new RegExp(escapeRegExp(connectionName)) }).first().click();
  await expect(page.getByRole('heading', { name: connectionName, level: 1 })).toBeVisible();
}

/** Nothing on the page is loading (the app marks loading regions aria-busy). */
export async function settled(page: Page): Promise<void> {
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 30_000 });
}

/** Finds a destination by typing in the search box and opens it. */
export async function findDestination(page: Page, name: string): Promise<void> {
  const search = page.getByRole('searchbox', { name: 'Search destinations' });
  await search.fill(name);
  const grid = page.getByRole('grid', { name: 'Destinations' });
  const link = grid.getByRole('link', { name, exact: true });
  // The server caches the list for a second, and RabbitMQ's list comes from the management API,
  // whose statistics lag seconds behind (more on a busy broker): a destination made just before
  // may need several refetches. Each retry reloads, so the list is fetched again.
  // Under load one fetch may take seconds: let it finish (no skeleton busy) before judging the list.
  let attempt = 0;
  await expect(async () => {
    if (attempt++ > 0) {
      await page.reload();
      await search.fill(name);
    }
    await settled(page);
    await expect(link).toBeVisible({ timeout: 3_000 });
  }).toPass({ timeout: 75_000, intervals: [1_000, 2_000, 3_000] });
  await link.click();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
}

/** Creates a destination with the destinations list's "New destination" form (name only, the broker's defaults). */
export async function createDestinationInDashboard(page: Page, connection: { id: string; name: string }, name: string): Promise<void> {
  await page.goto(`/c/${encodeURIComponent(connection.id)}/destinations`);
  await page.getByRole('button', { name: 'New destination' }).click();
  const dialog = page.getByRole('dialog', { name: `New destination on ${connection.name}` });
  await dialog.getByLabel('Name', { exact: true }).fill(name);
  await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.getByText(`Created ${name}`, { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
}

export function destinationTab(page: Page, label: 'Messages' | 'Live tail' | 'Consumers' | 'Metrics' | 'Configuration' | 'Publish'): Locator {
  return page.getByRole('navigation', { name: 'Destination views' }).getByRole('link', { name: label, exact: true });
}

/** Where reading has side effects the UI asks first; says yes when asked. */
export async function confirmPeekIfAsked(page: Page, action: string): Promise<void> {
  const button = page.getByRole('button', { name: `${action} anyway` });
  if (await button.isVisible()) await button.click();
}

/** Values of a `dl.kv` list by their `dt` label. */
export function definition(scope: Locator, term: string): Locator {
  return scope.locator(`dt:text-is("${term}") + dd`);
}

/** No serious or critical axe violation on the page as it is now (known, reported ones are annotated, see a11y-known-issues.ts). */
export async function expectAccessible(page: Page, info: TestInfo, view: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  await info.attach(`axe-${view}.json`, { body: JSON.stringify(results.violations, null, 2), contentType: 'application/json' });
  const strict = process.env.MAILROOM_E2E_STRICT_A11Y === '1';
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const knownAs = (v: (typeof bad)[number]) =>
    strict ? undefined : KNOWN_A11Y_ISSUES.find((k) => k.rule === v.id && k.views.includes(view) && v.nodes.every((n) => n.html.includes(k.html)));
  for (const v of bad) {
    const known = knownAs(v);
    if (known) info.annotations.push({ type: `known a11y issue: ${v.id}`, description: `${v.nodes.length} node(s) on ${view}: ${known.why}` });
  }
  const failing = bad.filter((v) => knownAs(v) === undefined);
  const report = failing.map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.slice(0, 5).map((n) => `    ${n.target.join(' ')} ${n.html} — ${n.failureSummary?.split('\n').join(' ')}`).join('\n')}`);
  expect(report, `axe: serious/critical violations on ${view}`).toEqual([]);
}
