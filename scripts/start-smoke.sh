#!/usr/bin/env bash
# Runs the README's start command as an operator would (`npx -y pnpm@12.4.2 start`, on a spare
# port and a throwaway data dir), waits for the URL it prints, and checks that the page and the sign-in it
# announces work: the app shell loads, the API refuses an anonymous call, the printed password signs in.
source "$(dirname "$0")/lib.sh"

PORT="${START_SMOKE_PORT:-18080}"
LOG="$(mktemp)"
DATA="$(mktemp -d)"
cleanup() {
  if [ -n "${PID:-}" ]; then kill -TERM -- "-$PID" 2>/dev/null || kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DATA" "$LOG"
}
trap cleanup EXIT

# Without the test environment's broker variables: exactly what a fresh shell gets.
env -u KAFKA_BROKERS -u SQS_ENDPOINT -u REDIS_URL -u RABBITMQ_URL -u MAILROOM_CONFIG -u MAILROOM_ANONYMOUS_ROLE \
  PORT="$PORT" MAILROOM_DATA_DIR="$DATA" setsid npx -y "pnpm@$PNPM_VERSION" start >"$LOG" 2>&1 &
PID=$!

URL=""
for _ in $(seq 1 300); do
  URL="$(sed -n 's/^Mailroom is running at \(http[^ ]*\).*/\1/p' "$LOG" | head -n1)"
  [ -n "$URL" ] && break
  if ! kill -0 "$PID" 2>/dev/null; then cat "$LOG"; echo "start-smoke: the start command exited before printing its URL" >&2; exit 1; fi
  sleep 1
done
if [ -z "$URL" ]; then cat "$LOG"; echo "start-smoke: no URL printed within 300 s" >&2; exit 1; fi
PASSWORD="$(sed -n 's/.*as user "admin", password \([^ ]*\).*/\1/p' "$LOG" | head -n1)"

html="$(curl -fsS -H 'accept: text/html' "$URL/")"
grep -q '<div id="root">' <<<"$html" || { echo "start-smoke: $URL/ is not the app shell" >&2; exit 1; }
status="$(curl -s -o /dev/null -w '%{http_code}' "$URL/trpc/connections.list")"
[ "$status" = 401 ] || { echo "start-smoke: an anonymous API call got $status, not 401" >&2; exit 1; }
[ -n "$PASSWORD" ] || { cat "$LOG"; echo "start-smoke: the start command printed no sign-in password" >&2; exit 1; }
signin="$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' -H 'x-mailroom-csrf: 1' \
  --data "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" "$URL/trpc/session.signIn")"
[ "$signin" = 200 ] || { echo "start-smoke: signing in with the printed password got $signin" >&2; exit 1; }
echo "start-smoke: $URL loads, asks for sign-in, and the printed password signs in"
