#!/usr/bin/env bash
# TAXII end-to-end benchmark driver (issue #2 targets):
#   1. ingest: POST envelopes of 1,000 indicators (wrk, 4 connections), objects/s;
#   2. reads:  GET objects/?limit=100 (plain, added_after, match[type]) at 64 connections,
#              requests/s and p99, at each store size in SIZES;
#   3. resident memory of the server and its start-up time at each size.
# Durable settings (SQLite WAL, synchronous=FULL) and HTTPS, as the node runs by default.
# Usage: bench/taxii_bench.sh [SIZES...]   (default: 10000 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
sizes=("${@:-10000 100000 1000000}")
sizes=(${sizes[@]})
work=$(mktemp -d /tmp/cordon-bench-XXXXXX)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
data=$work/data
col=0b8f2d4e-7c1a-4e55-9d3b-6a2f1c0e9b71
build/cordon init --data "$data" >/dev/null
build/cordon collection add --data "$data" --id $col --title bench >/dev/null
build/cordon user add --data "$data" bench --read '*' --write '*' >/dev/null
token=$(build/cordon token add --data "$data" bench)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
export CORDON_BENCH_TOKEN=$token CORDON_BENCH_COLLECTION=$col

start_server() {
  local t0 t1
  rm -f "$work/serve.out"
  t0=$(date +%s.%N)
  build/cordon serve --data "$data" --listen 127.0.0.1:0 --tls-cert "$work/cert.pem" \
    --tls-key "$work/key.pem" > "$work/serve.out" 2>&1 &
  server=$!
  until grep -q serving "$work/serve.out" 2>/dev/null; do sleep 0.005; done
  t1=$(date +%s.%N)
  port=$(sed -n 's/.*:\([0-9]*\)\/taxii2\/.*/\1/p' "$work/serve.out")
  base=https://127.0.0.1:$port/cordon/collections/$col/objects
  startup_ms=$(echo "($t1 - $t0) * 1000" | bc)
}
stop_server() { kill $server; wait $server 2>/dev/null || true; }
rss_mb() { echo "$(awk '/VmRSS/ {print $2}' /proc/$server/status) / 1024" | bc; }
count() { sqlite3 "$data/cordon.db" "select count(*) from objects" 2>/dev/null || echo "?"; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
start_server
run=1
for target in "${sizes[@]}"; do
  # Ingest until the store holds `target` objects; the first 10 s window is the measured one.
  have=$(count)
  need=$(( (target - have) / 1000 ))
  if [ "$need" -gt 0 ]; then
    CORDON_BENCH_RUN=$run wrk -t2 -c4 -d600s --timeout 30s -s bench/post_envelopes.lua "$base/" \
      > "$work/ingest.out" 2>&1 &
    wrkpid=$!
    t0=$(date +%s.%N); c0=$(count)
    while [ "$(count)" -lt "$target" ]; do sleep 0.5; done
    kill -INT $wrkpid; wait $wrkpid 2>/dev/null || true
    t1=$(date +%s.%N); c1=$(count)
    rate=$(echo "($c1 - $c0) / ($t1 - $t0)" | bc)
    echo "ingest to $c1 objects: $rate objects/s (POST of 1,000-indicator envelopes, 4 connections)"
    run=$((run + 1))
  fi
  stop_server; start_server
  echo "size $(count): start-up ${startup_ms} ms, RSS after start $(rss_mb) MB"
  after=$(sqlite3 "$data/cordon.db" "select strftime('%Y-%m-%dT%H:%M:%fZ', date_added_ns/1e9, 'unixepoch') from objects order by seq limit 1 offset $(( $(count) / 2 ))" 2>/dev/null || echo 2026-01-01T00:00:00Z)
  for q in "?limit=100" "?limit=100&added_after=$after" "?limit=100&match%5Btype%5D=indicator"; do
    wrk -t2 -c64 -d10s --latency -s bench/get_headers.lua "$base/$q" > "$work/get.out" 2>&1 || { cat "$work/get.out"; exit 1; }
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/get.out")
    p99=$(awk '$1=="99%" {print $2}' "$work/get.out")
    echo "  GET objects/$q: $rps req/s, p99 $p99, RSS $(rss_mb) MB"
  done
done
stop_server
