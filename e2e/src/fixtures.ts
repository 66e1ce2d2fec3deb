import { expect, test as base, type BrowserContext } from '@playwright/test';

/** A content-security-policy violation one of the test's pages reported. */
export interface CspViolation {
  /** `event`: the page's securitypolicyviolation event; `console`: Chromium's console report (workers too). */
  via: 'event' | 'console';
  url: string;
  text: string;
}

interface CspFixtures {
  /** Fail the test when a page reported a CSP violation or a page of the app came without a CSP (on by default). */
  failOnCspViolation: boolean;
  /** What the test's pages reported so far. */
  cspViolations: CspViolation[];
  /** Documents of the app that came without a content-security-policy header. */
  pagesWithoutCsp: string[];
}

interface ViolationEvent {
  directive: string;
  blocked: string;
  source: string;
  line: number;
  sample: string;
  disposition: string;
}

const BINDING = '__mailroomE2eCspViolation';

async function watchCsp(context: BrowserContext, appOrigin: string, violations: CspViolation[], withoutCsp: string[], pending: Promise<unknown>[]): Promise<void> {
  await context.exposeBinding(BINDING, ({ page }, event: ViolationEvent) => {
    violations.push({
      via: 'event',
      url: page.url(),
      text: `${event.disposition} ${event.directive}: blocked ${event.blocked || '(inline)'}${event.source ? ` in ${event.source}:${event.line}` : ''}${event.sample ? ` — ${event.sample}` : ''}`,
    });
  });
  // Runs before the page's own scripts, in every frame of every page of the context.
  await context.addInitScript((binding: string) => {
    document.addEventListener(
      'securitypolicyviolation',
      (e) => {
        const report = (window as unknown as Record<string, (v: unknown) => void>)[binding];
        report?.({ directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample, disposition: e.disposition });
      },
      true,
    );
  }, BINDING);
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push({ via: 'console', url: message.page()?.url() ?? '(worker)', text: message.text() });
  });
  context.on('response', (response) => {
    if (response.request().resourceType() !== 'document' || !response.url().startsWith(appOrigin)) return;
    pending.push(
      response.headerValue('content-security-policy').then(
        (csp) => {
          if (csp === null || csp === '') withoutCsp.push(response.url());
        },
        () => undefined,
      ),
    );
  });
}

/**
 * Every spec's `test`: Playwright's own, plus a CSP watch on the test's browser context. A page
 * that reports a content-security-policy violation (or a page of the app served without a
 * policy) fails the test, so a CSP regression breaks the suite wherever it shows.
 */
export const test = base.extend<CspFixtures>({
  failOnCspViolation: [true, { option: true }],
  // Playwright reads a fixture's dependencies from its first parameter's destructuring: none here.
  // eslint-disable-next-line no-empty-pattern
  cspViolations: async ({}, use) => {
    await use([]);
  },
  // eslint-disable-next-line no-empty-pattern
  pagesWithoutCsp: async ({}, use) => {
    await use([]);
  },
  context: async ({ context, baseURL, cspViolations, pagesWithoutCsp, failOnCspViolation }, use) => {
    const pending: Promise<unknown>[] = [];
    await watchCsp(context, new URL(baseURL ?? 'http://127.0.0.1').origin, cspViolations, pagesWithoutCsp, pending);
    await use(context);
    await Promise.all(pending);
    if (!failOnCspViolation) return;
    expect(cspViolations.map((v) => `${v.url} (${v.via}): ${v.text}`), 'content-security-policy violations reported by the pages').toEqual([]);
    expect(pagesWithoutCsp, 'pages of the app served without a content-security-policy header').toEqual([]);
  },
});

export { expect };
export type { Locator, Page, TestInfo } from '@playwright/test';
