#!/usr/bin/env bash
# Times sajin's image pipeline against vipsthumbnail on a photo-like 4000x3000 JPEG and the same
# image as PNG, and prints a table of times, ratios and peak memory. See bench/README.md.
#
#   bench/run.sh [WORK_DIR]        (default: a new temporary directory, kept for inspection)
#
# Needs: cargo, ImageMagick 6 (/usr/bin/convert), libvips-tools, hyperfine, GNU time, python3.
# Environment: RUNS (default 30), WARMUP (default 3).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/sajin-bench.XXXXXX)}
runs=${RUNS:-30}
warmup=${WARMUP:-3}
mkdir -p "$work/sajin" "$work/vips"

need() {
    command -v "$1" >/dev/null || { echo "missing $1: $2" >&2; exit 1; }
}
need hyperfine "apt-get install hyperfine"
need vipsthumbnail "apt-get install libvips-tools"
need python3 "apt-get install python3"
[ -x /usr/bin/time ] || { echo "missing /usr/bin/time: apt-get install time" >&2; exit 1; }
# Only Debian's ImageMagick makes the test image; another `convert` earlier on the PATH may not.
convert=/usr/bin/convert
"$convert" -version 2>/dev/null | grep -q ImageMagick ||
    { echo "missing ImageMagick at $convert: apt-get install imagemagick" >&2; exit 1; }

# Photo-like data: a plasma fractal, softened, with sensor-like noise; quality 90 as cameras do.
if [ ! -s "$work/photo.jpg" ]; then
    echo "generating $work/photo.jpg and photo.png ..." >&2
    "$convert" -seed 7 -size 4000x3000 plasma:fractal -blur 0x2 -attenuate 0.25 \
        +noise Gaussian -quality 90 "$work/photo.jpg"
    "$convert" "$work/photo.jpg" "$work/photo.png"
fi

echo "building the pipeline example (release profile: fat LTO, slow) ..." >&2
(cd "$repo" && cargo build --quiet --release --example pipeline)
pipeline="$repo/target/release/examples/pipeline"

# What vipsthumbnail users run for the same two files: the 500 px wide medium image, then the
# 320 px square thumbnail made from it, both at the quality sajin uses.
cat >"$work/vips.sh" <<VIPS
#!/bin/sh
set -e
vipsthumbnail "\$1" --size 500x -o "$work/vips/md.jpg[Q=85]"
vipsthumbnail "$work/vips/md.jpg" --size 320x320 --smartcrop centre -o "$work/vips/th.jpg[Q=85]"
VIPS
chmod +x "$work/vips.sh"

# One hyperfine run for all four commands, so that both tools see the same machine load.
hyperfine --style basic --warmup "$warmup" --runs "$runs" --export-json "$work/times.json" \
    -n "sajin jpeg" "$pipeline $work/photo.jpg --out $work/sajin" \
    -n "vips jpeg" "$work/vips.sh $work/photo.jpg" \
    -n "sajin png" "$pipeline $work/photo.png --out $work/sajin" \
    -n "vips png" "$work/vips.sh $work/photo.png" >&2

peak_kb() {
    /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
}
{
    for image in jpg png; do
        echo "sajin $image $(peak_kb "$pipeline" "$work/photo.$image" --out "$work/sajin")"
        echo "vips $image $(peak_kb "$work/vips.sh" "$work/photo.$image")"
    done
} >"$work/peaks.txt"

# Time inside one process, without start-up: the mean of 20 runs after 3 to warm up.
"$pipeline" "$work/photo.jpg" 23 2>"$work/inprocess-jpeg.txt"
"$pipeline" "$work/photo.png" 23 2>"$work/inprocess-png.txt"

python3 - "$work" <<'PY'
import json, os, statistics, sys

work = sys.argv[1]
times = {r["command"]: r for r in json.load(open(f"{work}/times.json"))["results"]}
peaks = {}
for line in open(f"{work}/peaks.txt"):
    tool, image, kb = line.split()
    peaks[(tool, image)] = int(kb) / 1024

def inprocess(name):
    runs = [float(line.split()[0]) for line in open(f"{work}/inprocess-{name}.txt")]
    return statistics.mean(runs[3:])

print(f"{'image':<6} {'sajin ms':>9} {'vips ms':>9} {'ratio':>6} {'sajin MB':>9} {'vips MB':>8}"
      f" {'in-process ms':>14}")
for name, ext in [("jpeg", "jpg"), ("png", "png")]:
    size = os.path.getsize(f"{work}/photo.{ext}") / 1e6
    ours, theirs = times[f"sajin {name}"], times[f"vips {name}"]
    ratio = ours["median"] / theirs["median"]
    print(f"{name:<6} {ours['median'] * 1000:9.1f} {theirs['median'] * 1000:9.1f} {ratio:6.2f}"
          f" {peaks[('sajin', ext)]:9.1f} {peaks[('vips', ext)]:8.1f} {inprocess(name):14.1f}"
          f"   ({size:.1f} MB input)")
print("times: hyperfine medians of whole commands; MB: peak RSS from GNU time;"
      " in-process: sajin's own loop, start-up excluded")
PY
echo "outputs and raw data in $work" >&2
