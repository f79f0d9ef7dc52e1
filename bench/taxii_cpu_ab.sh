#!/usr/bin/env bash
# Side-by-side TAXII GET cost of two cordon binaries (the method of
# docs/BENCHMARKS.md, "Serving path, third pass"): for each binary in turn,
# ROUNDS times, a fresh node with N indicators imported by `cordon import`,
# served over HTTPS, and wrk -t2 -c64 for 6 s on GET objects/?limit=100, with
# match[type] and with added_after. Prints req/s and the CPU per request of
# the server (from /proc) and of wrk (from time).
#
# usage: bench/taxii_cpu_ab.sh BIN_A BIN_B   env: N (200000) ROUNDS (3)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
ROUNDS=${ROUNDS:-3}
work=$(mktemp -d /tmp/cordon-ab-XXXXXX)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
col=0b8f2d4e-7c1a-4e55-9d3b-6a2f1c0e9b71
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
# N indicator lines for a plain-list import: distinct addresses in 10.0.0.0/8.
python3 -c "
import sys
for i in range(int(sys.argv[1])): print(f'10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}')" "$N" > "$work/list.txt"

run() {  # run BINARY
  local bin=$1 data=$work/data token port t0 t1 n rps
  rm -rf "$data"
  "$bin" init --data "$data" >/dev/null
  "$bin" collection add --data "$data" --id $col --title ab >/dev/null
  "$bin" user add --data "$data" bench --read '*' --write '*' >/dev/null
  token=$("$bin" token add --data "$data" bench)
  "$bin" import --data "$data" --collection $col --format plain --source ab "$work/list.txt" >/dev/null
  "$bin" serve --data "$data" --listen 127.0.0.1:0 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
    > "$work/serve.out" 2>&1 &
  server=$!
  until grep -q serving "$work/serve.out" 2>/dev/null; do sleep 0.05; done
  port=$(sed -n 's/.*:\([0-9]*\)\/taxii2\/.*/\1/p' "$work/serve.out")
  for q in "" "&match%5Btype%5D=indicator" "&added_after=2020-01-01T00:00:00Z"; do
    t0=$(awk '{print $14 + $15}' /proc/$server/stat)
    CORDON_BENCH_TOKEN=$token /usr/bin/time -f "%U %S" -o "$work/time" wrk -t2 -c64 -d6s \
      -s bench/get_headers.lua "https://127.0.0.1:$port/cordon/collections/$col/objects/?limit=100$q" > "$work/wrk.out"
    t1=$(awk '{print $14 + $15}' /proc/$server/stat)
    n=$(awk '/requests in/ {print $1}' "$work/wrk.out")
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
    awk -v b="$(basename "$bin")" -v q="${q:-plain}" -v r="$rps" -v n="$n" -v s=$((t1 - t0)) \
      -v hz="$(getconf CLK_TCK)" '{ printf "%-12s %-40s %9s req/s  server %4.0f us/req  wrk %4.0f us/req\n",
        b, q, r, s / hz * 1e6 / n, ($1 + $2) * 1e6 / n }' "$work/time"
  done
  kill $server; wait $server 2>/dev/null || true; server=
}

for r in $(seq "$ROUNDS"); do
  run "$1"
  run "$2"
done
