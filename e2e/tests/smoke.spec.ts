import { expect, test } from '../src/fixtures';
import { CONNECTIONS } from '../src/env';
import { shot } from '../src/ui';

test('overview lists every connection as healthy', async ({ page }, info) => {
  await page.goto('/');
  for (const c of Object.values(CONNECTIONS)) {
    const card = page.getByRole('region', { name: `Connection ${c.name}` });
    await expect(card).toBeVisible();
    await expect(card.locator('[data-health]')).toHaveAttribute('data-health', 'up');
  }
  await shot(page, info, 'overview');
});
