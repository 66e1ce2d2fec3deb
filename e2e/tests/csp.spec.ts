import { expect, test } from '../src/fixtures';

/**
 * The CSP watch every spec runs with (src/fixtures.ts) is itself checked here: with failing turned
 * off for this one test, a blocked inline script and a blocked foreign image must be recorded, and
 * the blocked script must not have run. Any other spec fails on such a report.
 */
test.use({ failOnCspViolation: false });

test('the CSP watch records what the app\'s policy blocks (and the policy blocks it)', async ({ page, cspViolations, pagesWithoutCsp }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  expect(cspViolations, 'the overview itself reports no violation').toEqual([]);
  expect(pagesWithoutCsp).toEqual([]);

  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__e2eInlineScriptRan = true;';
    document.body.append(script);
    const image = document.createElement('img');
    image.src = 'https://csp-probe.invalid/pixel.png';
    document.body.append(image);
  });

  await expect.poll(() => cspViolations.filter((v) => v.via === 'event').map((v) => v.text.split(':')[0])).toEqual(expect.arrayContaining(['enforce script-src-elem', 'enforce img-src']));
  expect(cspViolations.some((v) => v.via === 'console' && /inline script/.test(v.text))).toBe(true);
  expect(await page.evaluate(() => (window as unknown as { __e2eInlineScriptRan?: boolean }).__e2eInlineScriptRan ?? false), 'the inline script was blocked').toBe(false);
});

test('the CSP watch records a page of the app served without a policy', async ({ page, pagesWithoutCsp }) => {
  await page.route('**/fitness', async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    delete headers['content-security-policy'];
    await route.fulfill({ response, headers });
  });
  await page.goto('/fitness');
  await expect(page.getByRole('heading', { name: 'Fitness', level: 1 })).toBeVisible();
  await expect.poll(() => pagesWithoutCsp).toEqual([expect.stringMatching(/\/fitness$/)]);
});
