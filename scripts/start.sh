#!/usr/bin/env bash
# The README's start command: install, build the web app, start the server on the embedded
# in-memory broker with demo traffic (configured real brokers appear beside it).
source "$(dirname "$0")/lib.sh"

install_deps
step "build the web app"
pnpm --filter @mailroom/web build
step "start the server"
# Not exec: pnpm may be the shell function from lib.sh (run as `bash scripts/start.sh`).
pnpm --filter @mailroom/server start
