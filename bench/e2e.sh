#!/usr/bin/env bash
# Times one upload at a time end to end over HTTP on loopback, sajin against pict-rs: for the
# 4000x3000 JPEG and PNG of run.sh, from the start of the multipart upload until the original
# is stored and both the thumbnail and the 500 px medium image exist. See bench/README.md.
#
#   bench/e2e.sh [WORK_DIR]      (default: a new temporary directory, kept for inspection)
#
# sajin makes both variants inside the upload request. pict-rs makes variants when they are
# first asked for, so its time is the upload plus the first GET of each variant
# (`thumbnail=320` and `resize=500`), one after another.
#
# Needs: cargo, curl, python3, ImageMagick 6 (/usr/bin/convert). For pict-rs: `pict-rs` on the
# PATH (`cargo install pict-rs`) or PICTRS=path, exiftool (Debian libimage-exiftool-perl) and
# ffprobe (ffmpeg). pict-rs wants ImageMagick 7's `magick` command; the script puts a wrapper
# over Debian's ImageMagick 6 first on pict-rs's PATH. Without pict-rs only sajin is timed.
# Environment: RUNS (default 10), SAJIN (a binary instead of building target/release/sajin).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/sajin-e2e.XXXXXX)}
runs=${RUNS:-10}
mkdir -p "$work"
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done' EXIT

command -v curl >/dev/null || { echo "missing curl: apt-get install curl" >&2; exit 1; }
convert=/usr/bin/convert
"$convert" -version 2>/dev/null | grep -q ImageMagick ||
    { echo "missing ImageMagick at $convert: apt-get install imagemagick" >&2; exit 1; }
if [ ! -s "$work/photo.jpg" ]; then
    echo "generating $work/photo.jpg and photo.png ..." >&2
    "$convert" -seed 7 -size 4000x3000 plasma:fractal -blur 0x2 -attenuate 0.25 \
        +noise Gaussian -quality 90 "$work/photo.jpg"
    "$convert" "$work/photo.jpg" "$work/photo.png"
fi

if [ -z "${SAJIN:-}" ]; then
    echo "building target/release/sajin (release profile: fat LTO, slow) ..." >&2
    (cd "$repo" && cargo build --quiet --release --bin sajin)
    SAJIN=$repo/target/release/sajin
fi
pictrs=${PICTRS:-$(command -v pict-rs || true)}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() {
    for _ in $(seq 1 150); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.2
    done
    echo "no answer from $1" >&2
    exit 1
}

# Prints the median of the numbers on standard input.
median() {
    sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

time_sajin() {
    local data=$work/sajin-data port key
    rm -rf "$data"
    mkdir -p "$data"
    port=$(free_port)
    SAJIN_DATA_DIR=$data SAJIN_LISTEN=127.0.0.1:$port RUST_LOG=warn \
        "$SAJIN" serve 2>"$work/sajin.log" &
    pids+=($!)
    wait_for "http://127.0.0.1:$port/healthz"
    key=$("$SAJIN" key create --user admin --data-dir "$data")
    for image in jpg png; do
        for _ in $(seq 1 "$runs"); do
            curl -sf -o /dev/null -w '%{time_total}\n' -H "X-API-Key: $key" \
                -F "source=@$work/photo.$image" "http://127.0.0.1:$port/api/1/upload"
        done | median >"$work/sajin.$image.s"
    done
}

# pict-rs calls ImageMagick 7 as `magick [tool] ARGS`; Debian ships version 6's tools.
magick_wrapper() {
    mkdir -p "$work/magick-bin"
    cat >"$work/magick-bin/magick" <<'SH'
#!/bin/sh
case "$1" in
    convert|identify|mogrify|composite|montage|compare) tool=$1; shift; exec "/usr/bin/$tool" "$@" ;;
    *) exec /usr/bin/convert "$@" ;;
esac
SH
    chmod +x "$work/magick-bin/magick"
}

time_pictrs() {
    local data=$work/pictrs-data port base alias
    rm -rf "$data"
    mkdir -p "$data"
    magick_wrapper
    port=$(free_port)
    base="http://127.0.0.1:$port"
    PATH="$work/magick-bin:$PATH" "$pictrs" run --address "127.0.0.1:$port" \
        filesystem --path "$data/files" sled --path "$data/sled" >"$work/pictrs.log" 2>&1 &
    pids+=($!)
    wait_for "$base/healthz"
    for image in jpg png; do
        for _ in $(seq 1 "$runs"); do
            python3 - "$base" "$work/photo.$image" <<'PY'
import json, subprocess, sys, time
base, path = sys.argv[1], sys.argv[2]
start = time.perf_counter()
upload = subprocess.run(["curl", "-sf", "-F", f"images[]=@{path}", f"{base}/image"],
                        check=True, capture_output=True).stdout
alias = json.loads(upload)["files"][0]["file"]
for query in ("thumbnail=320", "resize=500"):
    subprocess.run(["curl", "-sf", "-o", "/dev/null", f"{base}/image/process.jpg?src={alias}&{query}"],
                   check=True)
print(time.perf_counter() - start)
PY
        done | median >"$work/pictrs.$image.s"
    done
}

time_sajin
if [ -n "$pictrs" ]; then
    time_pictrs
else
    echo "pict-rs not found: timing sajin only (cargo install pict-rs, or set PICTRS)" >&2
fi

python3 - "$work" "$runs" <<'PY'
import os, sys
work, runs = sys.argv[1], sys.argv[2]
read = lambda name: float(open(f"{work}/{name}").read()) * 1000 if os.path.exists(f"{work}/{name}") else None
print(f"one upload at a time, median of {runs}: upload to thumbnail + medium ready")
print(f"{'image':<6} {'MB':>5} {'sajin ms':>9} {'pict-rs ms':>11} {'ratio':>6}")
for image in ("jpg", "png"):
    size = os.path.getsize(f"{work}/photo.{image}") / 1e6
    ours, theirs = read(f"sajin.{image}.s"), read(f"pictrs.{image}.s")
    theirs_text = f"{theirs:11.1f}" if theirs else f"{'-':>11}"
    ratio = f"{ours / theirs:6.2f}" if theirs else f"{'-':>6}"
    print(f"{image:<6} {size:5.1f} {ours:9.1f} {theirs_text} {ratio}")
PY
echo "raw data in $work" >&2
