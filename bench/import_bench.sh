#!/usr/bin/env bash
# Feed import benchmark (issue #4 target: a 1,000,000-line plain or CSV list in <= 10 s).
# Generates in a temp dir, from the shared real lists plus synthetic names:
#   plain.txt  1,000,000 lines: real domains (blocklistproject phishing, urlhaus), real
#              addresses (ipsum), the rest synthetic domains/addresses/URLs/SHA-256 hashes;
#   feed.csv   the same values as "value,type,first_seen,labels" rows.
# Then times, with the real node settings (SQLite WAL, synchronous=FULL) and the 12 shared
# warning lists stored: the first import of each file into an empty collection, and a
# re-import of the same file (all unchanged).
# WITH_SERVER=1 starts `cordon serve` on the node first (the usual deployment: an import
# then leaves its checkpoint to the server's idle checkpointer).
# AB="BIN_A BIN_B" [ROUNDS=3] runs first imports only, two binaries alternating (see below).
# Usage: bench/import_bench.sh [LINES]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
shared=${CORDON_SHARED_DATA:-../shared/data}
bin=${CORDON_BIN:-build/cordon}
work=$(mktemp -d /tmp/cordon-import-bench-XXXXXX)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT

python3 - "$shared" "$work" "$lines" <<'PY'
import hashlib, ipaddress, subprocess, sys
shared, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def read(path):
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout.decode()
    return open(path).read()
values = []
for f in ["indicators/blocklistproject/phishing-nl.txt.zst", "indicators/urlhaus/urlhaus-filter-domains.txt"]:
    values += [l.split()[-1] for l in read(f"{shared}/{f}").splitlines() if l and not l.startswith("#")]
values += [l.split()[0] for l in read(f"{shared}/indicators/ipsum/ipsum.txt.zst").splitlines()
           if l and not l.startswith("#")]
values = list(dict.fromkeys(values))[: n // 2]
i = 0
while len(values) < n:
    r = i % 4
    if r == 0: values.append(f"host{i}.synthetic-{i % 977}.example")
    elif r == 1: values.append(f"10{(i >> 16) % 10}.{(i >> 8) % 256}.{i % 256}.{(i * 7) % 254 + 1}")
    elif r == 2: values.append(f"https://cdn{i % 5000}.synthetic.example/p/{i}.php?q={i}")
    else: values.append(hashlib.sha256(str(i).encode()).hexdigest())
    i += 1
with open(f"{work}/plain.txt", "w") as f:
    f.write("# generated for bench/import_bench.sh\n")
    f.write("\n".join(values[:n]) + "\n")
with open(f"{work}/feed.csv", "w") as f:
    f.write("value,type,first_seen,labels\n")
    for k, v in enumerate(values[:n]):
        try:
            ipaddress.ip_address(v)
            t = "ip"
        except ValueError:
            t = "url" if "://" in v else "sha256" if len(v) == 64 and "." not in v else "domain"
        f.write(f"{v},{t},2026-01-0{k % 9 + 1}T00:00:00Z,bench;synthetic\n")
PY

run() {  # name, args...
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$bin" import "$@" >"$work/out.txt" 2>"$work/err.txt" || true
  read -r wall user sys rss < <(tail -1 "$work/time.txt")  # after "Command exited with non-zero status"
  printf '%-22s %6.2f s wall, %6.2f s CPU (user+sys), %5d MB RSS   %s\n' "$name" "$wall" \
    "$(echo "$user + $sys" | bc)" $((rss / 1024)) "$(head -1 "$work/out.txt")"
  if [ -s "$work/err.txt" ]; then sed 's/^/    /' "$work/err.txt"; fi
}

data=$work/data
col=0b8f2d4e-7c1a-4e55-9d3b-6a2f1c0e9b71
col2=1c9e3f5a-8d2b-4f66-ae4c-7b3a2d1f0c82
csv_args=(--format csv --source bench-csv --columns value=value,type=type,first_seen=first_seen,labels=labels)

# AB="BIN_A BIN_B" [ROUNDS=3]: side by side instead — per round and binary, a first
# import of each file into a fresh node (with the warning lists), the binaries alternating.
if [ -n "${AB:-}" ]; then
  echo "lines: $lines; machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
  for round in $(seq "${ROUNDS:-3}"); do
    for bin in $AB; do
      for kind in plain csv; do
        rm -rf "$data"
        "$bin" init --data "$data" >/dev/null
        "$bin" collection add --data "$data" --id $col --title t >/dev/null
        "$bin" warninglist add --data "$data" "$shared"/misp/warninglists/*.json >/dev/null
        sync
        if [ $kind = plain ]; then
          run "r$round $kind $(basename "$bin")" --data "$data" --collection $col --format plain --source bench-plain "$work/plain.txt"
        else
          run "r$round $kind $(basename "$bin")" --data "$data" --collection $col "${csv_args[@]}" "$work/feed.csv"
        fi
      done
    done
  done
  exit 0
fi
"$bin" init --data "$data" >/dev/null
"$bin" collection add --data "$data" --id $col --title plain >/dev/null
"$bin" collection add --data "$data" --id $col2 --title csv >/dev/null
"$bin" warninglist add --data "$data" "$shared"/misp/warninglists/*.json >/dev/null
if [ "${WITH_SERVER:-0}" = 1 ]; then
  "$bin" serve --data "$data" --listen 127.0.0.1:0 --insecure-http > "$work/serve.out" 2>&1 &
  server=$!
  until grep -q serving "$work/serve.out" 2>/dev/null; do sleep 0.05; done
  echo "with cordon serve running on the node"
fi
echo "lines: $lines; machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
run "plain, first import" --data "$data" --collection $col --format plain --source bench-plain "$work/plain.txt"
run "plain, re-import" --data "$data" --collection $col --format plain --source bench-plain "$work/plain.txt"
run "csv, first import" --data "$data" --collection $col2 "${csv_args[@]}" "$work/feed.csv"
run "csv, re-import" --data "$data" --collection $col2 "${csv_args[@]}" "$work/feed.csv"
