#!/usr/bin/env bash
# Decisions and exports benchmark (issue 4): exporting N block decisions to RPZ.
# Usage: bench/export_bench.sh [N=1000000] [BUILD=build]
# Creates a node in a temp dir, imports N indicators (3/4 domains, 1/4 IPv4) from one
# source, blocks that source, then times `cordon export rpz` (first run writes the zone;
# the second finds it unchanged) and, for comparison, the other formats.
set -euo pipefail
N=${1:-1000000}
BUILD=${2:-build}
CORDON=$(realpath "$BUILD/cordon")
DIR=$(mktemp -d /tmp/cordon-export-bench.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
COL=6f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b
SRC=identity--6f1d2a3b-4c5d-4e6f-8a9b-00000000beef
"$CORDON" init --data "$DIR/data" >/dev/null
"$CORDON" collection add --data "$DIR/data" --id $COL --title bench >/dev/null
python3 - "$N" "$SRC" > "$DIR/ind.jsonl" <<'PY'
import sys
n, src = int(sys.argv[1]), sys.argv[2]
out = sys.stdout
for i in range(n):
    if i % 4 == 3:
        pat = f"[ipv4-addr:value = '{10 + (i >> 24) % 200}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}']"
    else:
        pat = f"[domain-name:value = 'host{i}.bad{i % 9973}.example']"
    out.write('{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-%012x",'
              '"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",'
              '"pattern":"%s","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",'
              '"created_by_ref":"%s"}\n' % (i, i, pat, src))
PY
/usr/bin/time -f "import: %e s, max RSS %M KiB" "$CORDON" import --data "$DIR/data" --collection $COL "$DIR/ind.jsonl" | tail -1
"$CORDON" decide block --data "$DIR/data" --source $SRC --reason bench --author bench >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for run in 1 2; do
  /usr/bin/time -f "export rpz (run $run): %e s wall, %U s user, max RSS %M KiB" \
    "$CORDON" export rpz --data "$DIR/data" --output "$DIR/out.rpz"
done
ls -l "$DIR/out.rpz" | awk '{print "zone size:", $5, "bytes"}'
grep -c 'CNAME' "$DIR/out.rpz" | sed 's/^/RPZ records: /'
if [ "${ALL_FORMATS:-0}" = 1 ]; then
  for f in suricata zeek nftables csv plain stix; do
    /usr/bin/time -f "export $f: %e s wall, max RSS %M KiB" "$CORDON" export $f --data "$DIR/data" --output "$DIR/out.$f" 2>&1 | grep -v entries
  done
fi
if [ -n "${KEEP:-}" ]; then cp -r "$DIR/data" "$KEEP"; echo "data kept in $KEEP"; fi
