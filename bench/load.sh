#!/usr/bin/env bash
# Loads a release build of sajin over HTTP on loopback with oha: multipart uploads of a
# photo-like 100 KB JPEG and a 2 MB JPEG from CLIENTS concurrent clients, and prints uploads/s,
# p50/p99 latency, status codes, and the server's memory idle, under load and after it.
# Every 200 answer must have made exactly one database row. See bench/README.md.
#
#   bench/load.sh [WORK_DIR]     (default: a new temporary directory, kept for inspection)
#
# Needs: cargo, oha (`cargo install oha`), ImageMagick 6 (/usr/bin/convert), python3.
# Environment: CLIENTS (default 16), DURATION per image (default 30s, oha's syntax),
# SOAK (a duration such as 10m: afterwards, one more 2 MB run that long, with memory sampled
# each minute), SAJIN (a sajin binary to use instead of building target/release/sajin).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/sajin-load.XXXXXX)}
clients=${CLIENTS:-16}
duration=${DURATION:-30s}
mkdir -p "$work"

need() {
    command -v "$1" >/dev/null || { echo "missing $1: $2" >&2; exit 1; }
}
need oha "cargo install oha"
need python3 "apt-get install python3"
convert=/usr/bin/convert
"$convert" -version 2>/dev/null | grep -q ImageMagick ||
    { echo "missing ImageMagick at $convert: apt-get install imagemagick" >&2; exit 1; }

# Photo-like data (see run.sh): about 100 KB at 1000x750 and about 2 MB at 3100x2325.
make_photo() {
    local name=$1 size=$2 quality=$3
    [ -s "$work/$name.jpg" ] ||
        "$convert" -seed 11 -size "$size" plasma:fractal -blur 0x2 -attenuate 0.25 \
            +noise Gaussian -quality "$quality" "$work/$name.jpg"
}
make_photo small 1000x750 84
make_photo large 3100x2325 90

# One multipart body per image, as curl -F source=@FILE would send it.
boundary=sajinloadboundary7MA4YWxkTrZu0gW
for name in small large; do
    python3 - "$work/$name.jpg" "$work/$name.body" "$boundary" <<'PY'
import sys
image, body, boundary = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(image, "rb").read()
head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"source\"; "
        f"filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
open(body, "wb").write(head + data + f"\r\n--{boundary}--\r\n".encode())
PY
done

if [ -z "${SAJIN:-}" ]; then
    echo "building target/release/sajin (release profile: fat LTO, slow) ..." >&2
    (cd "$repo" && cargo build --quiet --release --bin sajin)
    SAJIN=$repo/target/release/sajin
fi

data=$work/data
rm -rf "$data"
mkdir -p "$data"
SAJIN_DATA_DIR=$data SAJIN_LISTEN=127.0.0.1:0 RUST_LOG=warn,sajin=info \
    "$SAJIN" serve 2>"$work/server.log" &
server=$!
sampler=""
trap 'kill $sampler $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 100); do
    port=$(sed -n 's/.* listening .*port=\([0-9][0-9]*\).*/\1/p' "$work/server.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
key=$("$SAJIN" key create --user admin --data-dir "$data")
url="http://127.0.0.1:$port/api/1/upload"

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }

# Samples the server's RSS every 100 ms into FILE until killed.
sample_rss() {
    while kill -0 "$server" 2>/dev/null; do
        rss_kb >>"$1"
        sleep 0.1
    done
}

# load IMAGE DURATION REPORT: one oha run, its JSON report in $work/REPORT.oha.json.
load() {
    local name=$1 run_for=$2 report=$3
    oha --no-tui --output-format json -w -c "$clients" -z "$run_for" -m POST \
        -H "X-API-Key: $key" -T "multipart/form-data; boundary=$boundary" \
        -D "$work/$name.body" "$url" >"$work/$report.oha.json"
}

sleep 2
rss_kb >"$work/idle.kb"
echo "idle: $(cat "$work/idle.kb") kB" >&2
for name in small large; do
    : >"$work/$name.rss"
    sample_rss "$work/$name.rss" &
    sampler=$!
    echo "loading with $name.jpg for $duration at $clients clients ..." >&2
    load "$name" "$duration" "$name"
    kill "$sampler"
    sampler=""
    # Time for the last requests to finish, idle blocking threads to exit (tokio keeps them
    # 10 s) and the allocator to give memory back.
    sleep 15
    rss_kb >"$work/$name.after.kb"
done

if [ -n "${SOAK:-}" ]; then
    : >"$work/soak.rss"
    (while kill -0 "$server" 2>/dev/null; do rss_kb >>"$work/soak.rss"; sleep 60; done) &
    sampler=$!
    echo "soak: large.jpg for $SOAK ..." >&2
    load large "$SOAK" soak
    kill "$sampler"
    sampler=""
fi

python3 - "$work" "$data/sajin.db" "$clients" <<'PY'
import json, os, sqlite3, sys

work, db, clients = sys.argv[1], sys.argv[2], sys.argv[3]
mb = lambda kb: int(kb) / 1024
idle = mb(open(f"{work}/idle.kb").read())
print(f"server idle: {idle:.1f} MB RSS; {clients} clients")
print(f"{'image':<6} {'KB':>6} {'uploads/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'codes':<16}"
      f" {'peak MB':>8} {'after MB':>9}")
ok_total = 0
runs = ["small", "large"] + (["soak"] if os.path.exists(f"{work}/soak.oha.json") else [])
for name in runs:
    report = json.load(open(f"{work}/{name}.oha.json"))
    codes = report.get("statusCodeDistribution", {})
    ok_total += codes.get("200", 0)
    latency = report["latencyPercentiles"]
    if name == "soak":
        samples = [mb(kb) for kb in open(f"{work}/soak.rss").read().split()]
        memory = "per minute: " + " ".join(f"{value:.0f}" for value in samples)
        image = "large"
    else:
        samples = [mb(kb) for kb in open(f"{work}/{name}.rss").read().split()]
        memory = f"{max(samples):8.1f} {mb(open(f'{work}/{name}.after.kb').read()):9.1f}"
        image = name
    size = os.path.getsize(f"{work}/{image}.jpg") / 1024
    codes_text = ",".join(f"{code}:{count}" for code, count in sorted(codes.items()))
    print(f"{name:<6} {size:6.0f} {report['summary']['requestsPerSec']:10.1f}"
          f" {latency['p50'] * 1000:8.1f} {latency['p99'] * 1000:8.1f} {codes_text:<16} {memory}")
    errors = report.get("errorDistribution", {})
    if errors:
        print(f"       client-side errors: {errors}")
rows = sqlite3.connect(db).execute("select count(*) from uploads").fetchone()[0]
verdict = "equal" if rows == ok_total else "MISMATCH"
print(f"rows in the database: {rows}; 200 answers: {ok_total} ({verdict})")
PY
# The uploads themselves (gigabytes after a soak) go; the reports stay.
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
rm -rf "$data"
echo "reports in $work" >&2
