import { expect, test } from '../src/fixtures';
import { Redis } from 'ioredis';
import { CONNECTIONS, runId, volatileRedisPort } from '../src/env';
import { openConnection, shot } from '../src/ui';
import { startVolatileRedis, stopVolatileRedis } from '../src/volatile-redis';

const connection = CONNECTIONS.volatile;

async function addStream(name: string): Promise<void> {
  const redis = new Redis(`redis://127.0.0.1:${volatileRedisPort()}`, { maxRetriesPerRequest: 1 });
  try {
    await redis.xadd(name, '*', 'timestamp', String(Date.now()), 'value', 'hello');
  } finally {
    redis.disconnect();
  }
}

/**
 * Both journeys use the suite's own throwaway redis-server (declared as an extra connection), so
 * they run in this one file, in order: the fitness scores of a broker that holds only what this
 * test made, then stopping and restarting that broker.
 */
test('fitness: a consumed destination without a DLQ fails dead-letter handling; with one it passes', async ({ page }, info) => {
  const redis = new Redis(`redis://127.0.0.1:${volatileRedisPort()}`, { maxRetriesPerRequest: 1 });
  const work = `${runId()}-fitness-work`;
  const criterion = page.getByRole('region', { name: 'Dead-letter handling', exact: true });
  const remeasure = async () => {
    await page.getByRole('button', { name: 'Re-measure now' }).click();
    await expect(page.getByRole('button', { name: 'Re-measure now' })).toBeEnabled({ timeout: 30_000 });
  };
  try {
    // Consumed work (a consumer group reads it) and no `<stream>:dlq`: dead-letter handling fails.
    await redis.xadd(work, '*', 'timestamp', String(Date.now()), 'value', 'job');
    await redis.xgroup('CREATE', work, 'workers', '0');
    await page.goto(`/c/${encodeURIComponent(connection.id)}/fitness?destinations=${encodeURIComponent(`${runId()}-fitness-*`)}`);
    await expect(page.getByRole('heading', { name: 'Fitness', level: 1 })).toBeVisible();
    await remeasure();
    await expect(criterion).toHaveAttribute('data-state', 'fail');
    const row = criterion.getByRole('row').filter({ has: page.getByRole('link', { name: work, exact: true }) });
    await expect(row).toHaveAttribute('data-status', 'fail');
    const toFix = page.getByRole('region', { name: 'To fix' }).getByRole('row').filter({ has: page.getByRole('link', { name: 'Dead-letter handling' }) });
    await expect(toFix.filter({ has: page.getByRole('link', { name: work, exact: true }) })).toBeVisible();
    await shot(page, info, '1 dead-letter handling failing');

    // Give it a DLQ by the broker's convention: the same criterion passes.
    await redis.xadd(`${work}:dlq`, '*', 'timestamp', String(Date.now()), 'value', 'placeholder');
    await remeasure();
    await expect(criterion).toHaveAttribute('data-state', 'pass');
    await criterion.getByRole('button', { name: /^Show .*passing/ }).click();
    await expect(row).toHaveAttribute('data-status', 'pass');
    await expect(toFix.filter({ has: page.getByRole('link', { name: work, exact: true }) })).toHaveCount(0);
    await shot(page, info, '2 dead-letter handling passing');
  } finally {
    await redis.del(work, `${work}:dlq`);
    redis.disconnect();
  }
});

test('a broker stopped mid-session shows as unavailable within 5 s and recovers when it is back', async ({ page }, info) => {
  // The suite's own throwaway redis-server (never a shared broker), declared as an extra connection.
  const stream = `${runId()}-volatile-orders`;
  await addStream(stream);
  await openConnection(page, connection.name);
  const grid = page.getByRole('grid', { name: 'Destinations' });
  const health = page.getByRole('main').locator('[data-health]').first();
  const sidebarDot = page.getByRole('navigation', { name: 'Connections' }).getByRole('link', { name: new RegExp(connection.name) }).getByRole('img');
  await expect(grid.getByRole('link', { name: stream, exact: true })).toBeVisible();
  await expect(health).toHaveAttribute('data-health', 'up');
  await shot(page, info, '1 up');

  await stopVolatileRedis();
  const stoppedAt = Date.now();
  await expect(health).toHaveAttribute('data-health', 'down', { timeout: 5_000 });
  const downAfter = Date.now() - stoppedAt;
  await expect(sidebarDot).toHaveAccessibleName('down');
  await expect(page.getByRole('alert').filter({ hasText: 'Broker unreachable' })).toBeVisible();
  await expect(grid).toBeHidden();
  test.info().annotations.push({ type: 'down-after-ms', description: String(downAfter) });
  console.log(`[availability] shown down ${downAfter} ms after the kill`);
  await shot(page, info, '2 down');

  await page.goto('/');
  const card = page.getByRole('region', { name: `Connection ${connection.name}` });
  await expect(card.locator('[data-health]')).toHaveAttribute('data-health', 'down');
  await expect(card.getByRole('alert').filter({ hasText: 'Broker unreachable' })).toBeVisible();
  await shot(page, info, '3 overview down');

  await startVolatileRedis();
  const startedAt = Date.now();
  await expect(card.locator('[data-health]')).toHaveAttribute('data-health', 'up', { timeout: 15_000 });
  const upAfter = Date.now() - startedAt;
  test.info().annotations.push({ type: 'up-after-ms', description: String(upAfter) });
  console.log(`[availability] shown up ${upAfter} ms after the restart`);
  await expect(card.getByRole('alert').filter({ hasText: 'Broker unreachable' })).toBeHidden();
  await shot(page, info, '4 overview recovered');

  // The restarted server is empty (no persistence): what is added now shows in the list again.
  await addStream(stream);
  await openConnection(page, connection.name);
  await expect(grid.getByRole('link', { name: stream, exact: true })).toBeVisible({ timeout: 30_000 });
  await shot(page, info, '5 destinations back');
});
