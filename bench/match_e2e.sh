#!/usr/bin/env bash
# Matcher end to end: `cordon match` over >= 1 GB of the shared Zeek and Suricata
# logs (Zeek JSON, Suricata EVE JSON and Zeek TSV, each separately) with a
# realistic indicator set (exact domains and addresses, domain suffixes and
# IPv4 blocks), side by side with GNU grep's multi-string search
# (`grep -F -f indicators.txt`) on the same input in the same run.
#
# usage: bench/match_e2e.sh [BUILD_DIR]
# env:   SIZE_MB (1024)  N_INDICATORS (1000000)  WORK (/tmp/cordon-match-bench)
#        RUNS (3): each program runs this many times per input; the best run counts
#        KEEP=1 keeps the generated inputs in WORK for a re-run.
#
# Throughput is per core: input bytes / CPU seconds. For cordon, the CPU time
# of its one reading/decoding/matching thread as it reports it (loading and
# compiling the indicators is reported separately as start-up); for grep, its
# CPU time (user + sys) minus its start-up on a one-line input.
# Inputs are generated in WORK (never in the repository).
set -euo pipefail
BUILD=${1:-build}
CORDON=$(realpath "$BUILD/cordon")
HERE=$(cd "$(dirname "$0")/.." && pwd)
DATA=${CORDON_SHARED_DATA:-$HERE/../shared/data}
SIZE_MB=${SIZE_MB:-1024}
N=${N_INDICATORS:-1000000}
RUNS=${RUNS:-3}
WORK=${WORK:-/tmp/cordon-match-bench}
mkdir -p "$WORK"
cd "$WORK"
L=$DATA/logs

# --- inputs -------------------------------------------------------------------
unit() {  # one copy of each kind
  [ -s unit.json ] || {
    zstd -dc "$L/zeek/wrccdc-2018/json/dns.json.zst" "$L/zeek/wrccdc-2018/json/ssl.json.zst"
    cat "$L/zeek/wrccdc-2018/json/x509.json" "$L/zeek/wrccdc-2018/json/notice.json"
    cat "$L"/zeek/stratosphere-slips-test9-mixed/{conn,dns,http,files,ssl,x509,notice}.log
  } > unit.json
  [ -s unit.eve ] || zstd -dc "$L/suricata/stratosphere-test6-malicious.eve.json.zst" > unit.eve
  [ -s unit.tsv ] || {
    for f in dns ssl weird; do zstd -dc "$L/zeek/wrccdc-2018/tsv/$f.log.zst"; done
    cat "$L"/zeek/wrccdc-2018/tsv/*.log "$L"/zeek/stratosphere-005-zeek-scenario-malicious/*.log
  } > unit.tsv
}
grow() {  # $1 unit -> $2 of at least SIZE_MB
  local want=$((SIZE_MB * 1024 * 1024))
  if [ -s "$2" ] && [ "$(stat -c %s "$2")" -ge "$want" ]; then return; fi
  : > "$2"
  while [ "$(stat -c %s "$2")" -lt "$want" ]; do cat "$1" >> "$2"; done
}
unit
grow unit.json big.json
grow unit.eve big.eve
grow unit.tsv big.tsv
printf 'start-up probe\n' > probe.log  # one line without any indicator: start-up cost only

# --- indicators ---------------------------------------------------------------
GENERATOR=2  # raise when the set below changes: files of another version are made again
if [ ! -s indicators.json ] || [ "$(wc -l < indicators.txt)" -ne "$N" ] ||
   [ "$(cat indicators.generator 2>/dev/null)" != "$GENERATOR" ]; then
python3 - "$DATA" "$N" <<'PY'
import json, subprocess, sys
data, n = sys.argv[1], int(sys.argv[2])
def lines(rel):
    p = f"{data}/{rel}"
    raw = subprocess.run(["zstd", "-dc", p], capture_output=True, check=True).stdout if p.endswith(".zst") else open(p, "rb").read()
    for l in raw.decode("utf-8", "replace").splitlines():
        l = l.strip()
        if l and not l.startswith("#") and not l.startswith("!"):
            yield l
domains, ips = [], []
for rel in ("indicators/blocklistproject/phishing-nl.txt.zst", "indicators/urlhaus/urlhaus-filter-domains.txt",
            "indicators/blocklistproject/ransomware.txt"):
    for l in lines(rel):
        v = l.split()[-1].lower()
        # No ' or \: they would end or escape the pattern's string literal.
        if "." in v and "/" not in v and ":" not in v and "'" not in v and "\\" not in v:
            domains.append(v)
for l in lines("indicators/ipsum/ipsum.txt.zst"):
    ips.append(l.split()[0])
# Planted hits: values that truly occur in the logs, chosen among the rarest
# (DNS queries of the Zeek JSON, addresses of the EVE log), so that alerts are
# a small fraction of the records as in production (except in the EVE capture,
# whose scanners' networks are listed blocks: about a fifth of its records).
from collections import Counter
queries, addrs = Counter(), Counter()
for l in open("unit.json"):
    if '"query":"' in l:
        q = l.split('"query":"', 1)[1].split('"', 1)[0].lower()
        if "." in q and "'" not in q and "\\" not in q:
            queries[q] += 1
for l in open("unit.eve"):
    r = json.loads(l)
    for k in ("src_ip", "dest_ip"):
        ip = r.get(k)
        if ip and ":" not in ip:
            addrs[ip] += 1
planted = [q for q, _ in sorted(queries.items(), key=lambda kv: (kv[1], kv[0]))[:100]]
eve_ips = [a for a, _ in sorted(addrs.items(), key=lambda kv: (kv[1], kv[0]))[:100]]
# The real blocks of these FireHOL sets (not their single addresses). A guard
# drops any block overlapping private, shared or reserved space (none of these
# four does today; firehol_level1, not used, lists the bogons, which would make
# every internal address of the logs an alert).
import ipaddress
special = [ipaddress.ip_network(x) for x in ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
           "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16",
           "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3")]
blocks = []
for rel in ("spamhaus_drop.netset", "spamhaus_edrop.netset", "dshield.netset", "firehol_level2.netset"):
    for l in lines(f"indicators/firehol/{rel}"):
        if "/" not in l:
            continue
        net = ipaddress.ip_network(l, strict=False)
        if net.prefixlen < 32 and not any(net.overlaps(x) for x in special):
            blocks.append(str(net))
blocks = list(dict.fromkeys(blocks))
# Suffix indicators (LIKE '%.<domain>': the domain's subdomains) for one
# blocklist domain in fifty, among the names (not the IPv4 addresses some lists
# carry) without '_', a LIKE wildcard.
names = [d for d in domains if not d.replace(".", "").isdigit() and "_" not in d]
suffixes = ["%." + d for d in names[::50]]
values = list(dict.fromkeys(planted + eve_ips + blocks + suffixes + domains + ips))
base = [v for v in domains]
i = 0
while len(values) < n:  # derived names under the real blocklisted domains
    values.append(f"x{i // len(base)}.{base[i % len(base)]}")
    i += 1
values = values[:n]
with open("indicators.txt", "w") as t, open("indicators.json", "w") as b:
    b.write('{"type":"bundle","id":"bundle--0b8e4f3a-6c1d-4e2f-9a7b-5c3d2e1f0a9b","objects":[\n')
    for k, v in enumerate(values):
        # grep gets each value's text: a block's "a.b.c.d/n" (which no log
        # line holds: grep cannot test membership) and a suffix's ".<domain>".
        t.write(v.lstrip("%") + "\n")
        if "/" in v:
            pat = f"[ipv4-addr:value ISSUBSET '{v}']"
        elif v.startswith("%."):
            pat = f"[domain-name:value LIKE '{v}']"
        elif v.replace(".", "").isdigit():
            pat = f"[ipv4-addr:value = '{v}']"
        else:
            pat = f"[domain-name:value = '{v}']"
        b.write(("," if k else "") + json.dumps({
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{k:08x}-0000-4000-8000-000000000000",
            "created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z", "pattern": pat,
            "pattern_type": "stix", "valid_from": "1970-01-01T00:00:00Z"}) + "\n")
    b.write("]}\n")
print(f"{len(values)} indicators ({len(planted)} planted domains, {len(eve_ips)} planted IPs, "
      f"{len(blocks)} IPv4 blocks, {len(suffixes)} domain suffixes, "
      f"{len(domains)} blocklist domains, {len(ips)} blocklist IPs)", file=sys.stderr)
PY
echo "$GENERATOR" > indicators.generator
fi

[ -d node ] || "$CORDON" init --data node > /dev/null

# --- runs -----------------------------------------------------------------------
cpu() {  # prints "cpu_seconds wall_seconds" of the command; its stdout goes to $OUT, stderr to $OUT.err
  /usr/bin/time -o "$OUT.time" -f "%U %S %e" "$@" > "$OUT" 2> "$OUT.err" || true  # grep -c exits 1 on no match
  tail -1 "$OUT.time" | awk '{printf "%.3f %.3f\n", $1 + $2, $3}'
}
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN{printf "%.1f", b / 1048576}'; }

OUT=$WORK/out
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "indicators: $(wc -l < indicators.txt) values; input: SIZE_MB=$SIZE_MB"
read -r C0 _ < <(cpu "$CORDON" match --data node --indicators indicators.json --format lines probe.log)
echo "cordon start-up (load + build $N indicators): ${C0} s CPU (all threads); $(grep -o 'compiled.*' "$OUT.err" | grep -o '[0-9.]* s, [0-9.]* MB' | head -1) (build wall, index memory)"
read -r G0 _ < <(cpu env LC_ALL=C grep -F -c -f indicators.txt probe.log)
echo "grep start-up (compile $N patterns): ${G0} s CPU"
printf "%-6s %6s | %9s %9s %9s | %9s %9s %9s | %6s\n" input MB "cordon s" "MB/s/core" hits "grep s" "MB/s/core" lines ratio
for kind in json eve tsv; do
  f=big.$kind
  fmt=zeek; [ $kind = eve ] && fmt=eve
  # Read once before timing: on this VM the host reclaims idle page-cache memory,
  # and whichever program read a file first paid for bringing it back (up to 2x
  # its CPU time); grep runs right after cordon, so both now read a warm file.
  cat "$f" > /dev/null
  # Best of RUNS for each program (the shared VM's neighbours slow single runs
  # by up to 2x; the least disturbed run is the one that measures the code).
  c= g=
  for _ in $(seq "$RUNS"); do
    cpu "$CORDON" match --data node --indicators indicators.json --format $fmt "$f" > /dev/null
    # cordon's own CPU time of its read/decode/match thread (start-up excluded).
    t=$(grep -o 'read+decode+match [0-9.]* s CPU' "$OUT.err" | awk '{print $2}')
    hits=$(grep -o '[0-9]* hits' "$OUT.err" | cut -d' ' -f1)
    c=$(awk -v a="${c:-1e9}" -v b="$t" 'BEGIN{print (b < a) ? b : a}')
  done
  for _ in $(seq "$RUNS"); do
    read -r t _ < <(cpu env LC_ALL=C grep -F -c -f indicators.txt "$f")
    glines=$(cat "$OUT")
    g=$(awk -v a="${g:-1e9}" -v b="$t" 'BEGIN{print (b < a) ? b : a}')
  done
  size=$(mb "$f")
  awk -v k=$kind -v s="$size" -v c="$c" -v g="$g" -v g0="$G0" -v h="$hits" -v gl="$glines" 'BEGIN{
    gt = g - g0; if (gt <= 0) gt = 0.001; if (c <= 0) c = 0.001;
    printf "%-6s %6.0f | %9.2f %9.0f %9d | %9.2f %9.0f %9d | %5.1fx\n", k, s, c, s / c, h, gt, s / gt, gl, gt / c }'
done
[ "${KEEP:-0}" = 1 ] || rm -f big.json big.eve big.tsv
