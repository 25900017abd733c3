#!/usr/bin/env bash
# The browser tests: starts the built sajin (target/debug/sajin, or $SAJIN_BIN) on a free
# loopback port over a temporary data directory, gives the admin account a known password, runs
# pages.test.mjs in Debian's Chromium through playwright-core, and stops the server on exit.
# Screenshots go to $BROWSER_TEST_OUT (default target/browser-test).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${SAJIN_BIN:-$ROOT/target/debug/sajin}
export BROWSER_TEST_OUT=${BROWSER_TEST_OUT:-$ROOT/target/browser-test}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
# playwright-core never fetches a browser of its own; this keeps any tool from trying.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
WORK=$(mktemp -d /tmp/sajin-browser.XXXXXX)
SERVER_PID=""

cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$BIN" ] || { echo "no sajin binary at $BIN: run cargo build first" >&2; exit 1; }
[ -x "$CHROMIUM" ] || { echo "no Chromium at $CHROMIUM: apt-get install chromium" >&2; exit 1; }
if [ ! -d "$HERE/node_modules/playwright-core" ]; then
    (cd "$HERE" && npm ci --no-audit --no-fund)
fi

mkdir -p "$WORK/data" "$BROWSER_TEST_OUT"
# Private URLs are allowed so that the page's "add from URL" can fetch from this very server.
SAJIN_DATA_DIR="$WORK/data" SAJIN_LISTEN=127.0.0.1:0 SAJIN_ALLOW_PRIVATE_URLS=true \
    "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.* listening .*port=\([0-9][0-9]*\).*/\1/p' "$WORK/server.log" | head -1)
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
done
if [ -z "$PORT" ]; then
    echo "sajin did not start:" >&2
    cat "$WORK/server.log" >&2
    exit 1
fi

export SAJIN_URL="http://127.0.0.1:$PORT"
export SAJIN_USER=admin
SAJIN_PASSWORD=$("$BIN" user passwd admin --data-dir "$WORK/data")
export SAJIN_PASSWORD

status=0
# Each test has its own time limit; the outer one only stops a run that hangs outside a test.
timeout 900 node --test --test-timeout=180000 --test-concurrency=1 "$@" "$HERE/pages.test.mjs" \
    || status=$?
if [ "$status" -ne 0 ]; then
    echo "== server log" >&2
    tail -n 50 "$WORK/server.log" >&2
fi
exit "$status"
