/**
 * Serious/critical axe findings in apps/web that are reported to its owner and not fixed yet.
 * They are attached to the test and listed as annotations instead of failing it; any other
 * serious or critical violation fails. Delete an entry as soon as the web app fixes it (or run
 * with MAILROOM_E2E_STRICT_A11Y=1 to fail on these too).
 */
export const KNOWN_A11Y_ISSUES: Record<string, string> = {};
