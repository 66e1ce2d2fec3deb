# Shared by scripts/test.sh and scripts/start.sh. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PNPM_VERSION=12.4.2

# Corepack cannot verify pnpm's signature against this registry, so pnpm comes from npm.
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  pnpm() { npx -y "pnpm@$PNPM_VERSION" "$@"; }
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

install_deps() {
  step "install dependencies (pnpm $PNPM_VERSION)"
  pnpm install --frozen-lockfile --reporter=append-only
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  step "install Debian's chromium (test tools cannot download browsers here)"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}
