#!/usr/bin/env bash
# The README's test command: installs what it needs, starts the brokers, then lint, typecheck,
# unit, conformance, integration and end-to-end tests. Exits non-zero on the first failure.
source "$(dirname "$0")/lib.sh"

install_deps
step "lint"
pnpm lint
step "typecheck"
pnpm typecheck
# Built before the server's tests too: they check the content security policy against the real page.
step "build the web app"
pnpm --filter @mailroom/web build
step "brokers up"
pnpm brokers up
step "unit, conformance and integration tests"
pnpm -r --workspace-concurrency 1 --no-bail --filter '!@mailroom/e2e' test
if [ -f e2e/package.json ]; then
  ensure_chromium
  step "end-to-end tests (Playwright, Debian chromium)"
  pnpm --filter @mailroom/e2e test
fi
step "the README's start command: the page it prints loads and its sign-in works"
bash scripts/start-smoke.sh
step "all tests passed"
