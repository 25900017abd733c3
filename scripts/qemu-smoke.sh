#!/usr/bin/env bash
# Smoke-tests one binary from scripts/build-static.sh on its own architecture: the ARM ones run
# under Debian's qemu-user-static (installed when missing), x86_64 runs natively.
#
#   scripts/qemu-smoke.sh ARCH     # ARCH: aarch64, armv7, arm or x86_64
#
# It starts dist/sajin-<target> on 127.0.0.1 (the kernel picks a free port) with a fresh data
# dir, makes an API key with `sajin key create`, uploads a JPEG through /api/1/upload, then
# checks the direct URL (the same bytes), the thumbnail (a JPEG) and the viewer page (200
# HTML). One PASS or FAIL line per check; the exit status is non-zero when any failed. The
# server is stopped and the data dir removed on every exit.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
START_TIMEOUT_SECS=${START_TIMEOUT_SECS:-180}

die() {
    echo "qemu-smoke: $*" >&2
    exit 1
}

[ $# -eq 1 ] || die "usage: $0 aarch64|armv7|arm|x86_64"
ARCH=$1
# The arm build is for ARMv6 boards (Pi Zero and 1), so it runs on an ARM1176 CPU model:
# an ARMv7 instruction slipping into it would fail here.
case $ARCH in
    aarch64) TARGET=aarch64-unknown-linux-musl QEMU=(qemu-aarch64-static) ;;
    armv7) TARGET=armv7-unknown-linux-musleabihf QEMU=(qemu-arm-static) ;;
    arm) TARGET=arm-unknown-linux-musleabihf QEMU=(qemu-arm-static -cpu arm1176) ;;
    x86_64) TARGET=x86_64-unknown-linux-musl QEMU=() ;;
    *) die "unknown ARCH $ARCH (aarch64, armv7, arm or x86_64)" ;;
esac
BIN=$ROOT/dist/sajin-$TARGET
[ -x "$BIN" ] || die "$BIN is missing: run scripts/build-static.sh $TARGET first"

if [ "${#QEMU[@]}" -gt 0 ] && ! command -v "${QEMU[0]}" >/dev/null; then
    [ "$(id -u)" -eq 0 ] || die "install qemu-user-static first (needs root)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
fi

WORK=$(mktemp -d /tmp/sajin-smoke.XXXXXX)
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

sajin() { "${QEMU[@]}" "$BIN" "$@"; }

FAILED=0
check() {
    local name=$1
    shift
    if "$@"; then
        echo "PASS $ARCH: $name"
    else
        echo "FAIL $ARCH: $name"
        FAILED=1
    fi
}

# An 800×600 JPEG: wider than 500 px, so the upload also gets a medium-size copy.
make_jpeg() {
    local out=$1
    if [ -x /usr/bin/convert ]; then
        /usr/bin/convert -size 800x600 gradient:navy-orange -quality 85 "$out"
        return
    fi
    local venv=${SAJIN_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sajin-build}/pillow-venv
    if ! "$venv/bin/python" -c 'import PIL' 2>/dev/null; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q pillow
    fi
    "$venv/bin/python" -c '
import sys
from PIL import Image
Image.radial_gradient("L").resize((800, 600)).convert("RGB").save(sys.argv[1], quality=85)
' "$out"
}

server_failed() {
    cat "$WORK/server.log" >&2
    die "$1"
}

start_server() {
    mkdir -p "$WORK/data"
    # Started directly rather than through sajin(), so that $! is the server (or its qemu)
    # and not a subshell that the kill in cleanup would leave it behind.
    "${QEMU[@]}" "$BIN" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" \
        >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!

    local started=$SECONDS
    local deadline=$((SECONDS + START_TIMEOUT_SECS))
    PORT=""
    while [ -z "$PORT" ]; do
        kill -0 "$SERVER_PID" 2>/dev/null || server_failed "the server exited"
        [ "$SECONDS" -lt "$deadline" ] || server_failed "no listening port in the log"
        sleep 0.5
        PORT=$(sed -n 's/.* listening .*port=\([0-9][0-9]*\).*/\1/p' "$WORK/server.log" | head -1)
    done
    echo "sajin-$TARGET listening on 127.0.0.1:$PORT (after $((SECONDS - started)) s)"
}

json_field() {
    python3 -c '
import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2].split("."):
    value = value[key]
print(value)
' "$1" "$2"
}

# Fetches URL into FILE and prints "status content-type".
fetch() {
    curl -sS --max-time 60 -o "$2" -w '%{http_code} %{content_type}' "$1"
}

is_jpeg() { [ "$(head -c 3 "$1" | od -An -tx1 | tr -d ' \n')" = "ffd8ff" ]; }

main() {
    command -v curl >/dev/null || die "needs curl"
    echo "$ARCH: $(file -b "$BIN")"
    make_jpeg "$WORK/upload.jpg"
    start_server

    local key
    key=$(sajin key create --user admin --data-dir "$WORK/data")
    check "key create printed a key" test -n "$key"

    local status
    status=$(curl -sS --max-time 120 -o "$WORK/upload.json" -w '%{http_code}' \
        -H "X-API-Key: $key" -F "source=@$WORK/upload.jpg" \
        "http://127.0.0.1:$PORT/api/1/upload")
    check "upload answered 200 (got $status)" test "$status" = 200
    if [ "$status" != 200 ]; then
        cat "$WORK/upload.json" >&2
        exit 1
    fi

    local url thumb viewer got
    url=$(json_field "$WORK/upload.json" image.url)
    thumb=$(json_field "$WORK/upload.json" image.thumb.url)
    viewer=$(json_field "$WORK/upload.json" image.url_viewer)

    got=$(fetch "$url" "$WORK/direct")
    check "direct URL answered 200 image/jpeg (got $got)" test "$got" = "200 image/jpeg"
    check "direct URL serves the uploaded bytes" cmp -s "$WORK/upload.jpg" "$WORK/direct"

    got=$(fetch "$thumb" "$WORK/thumb")
    check "thumbnail answered 200 image/jpeg (got $got)" test "$got" = "200 image/jpeg"
    check "thumbnail is a JPEG" is_jpeg "$WORK/thumb"

    got=$(fetch "$viewer" "$WORK/viewer")
    check "viewer page answered 200 HTML (got $got)" test "${got%%;*}" = "200 text/html"
    check "viewer page shows the image" grep -qF "${url#*://*/}" "$WORK/viewer"

    [ "$FAILED" -eq 0 ] || { cat "$WORK/server.log" >&2; exit 1; }
}

main
