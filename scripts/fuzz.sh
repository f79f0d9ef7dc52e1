#!/usr/bin/env bash
# Fuzzes cordon's input parsers with libFuzzer (clang, ASan + UBSan): the
# *_fuzz.cc targets beside the code (pattern, stix, normalize, events, feeds,
# taxii request parsing, federation's RFC 8785 canonicalization and signatures, the DNS zone-transfer
# server's queries and zone text), and the matcher's lookups against a brute-force reference.
#
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET (60)] [TARGET...]
#
# Seeds: the checked-in corpus tests/fuzz/<target>/ plus real inputs from
# ../shared/data (pattern vectors, log lines, feeds). New corpus entries go to
# a scratch directory (WORK, default /tmp/cordon-fuzz), never into the
# repository; a crash leaves its input in WORK/<target>/crash-* and the run
# fails. Add a crash's input to tests/fuzz/<target>/ with its fix: ctest
# replays that directory in every build.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pattern_fuzz stix_fuzz normalize_fuzz request_fuzz events_fuzz feeds_fuzz jcs_fuzz signature_fuzz dns_fuzz match_fuzz)
data=${CORDON_SHARED_DATA:-$PWD/../shared/data}
work=${WORK:-/tmp/cordon-fuzz}
scripts/install-deps.sh clang libclang-rt-14-dev
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]}"

# Real seeds, cut to libFuzzer's input sizes (one file per record).
seeds() {
  local t=$1 dir=$work/$t/seeds-real
  [ -d "$dir" ] && return
  mkdir -p "$dir"
  case $t in
    pattern_fuzz)  # "pattern\nobserved" from the OASIS matcher vectors; the validator's patterns
      python3 - "$data/patterns" "$dir" <<'PY'
import json, sys
src, out = sys.argv[1:]
n = 0
for name in ("stix-pattern-matcher-vectors.jsonl", "stix-pattern-validator-vectors.jsonl"):
    for line in open(f"{src}/{name}"):
        v = json.loads(line)
        text = v["pattern"] + ("\n" + json.dumps(v["observed"]) if "observed" in v else "")
        open(f"{out}/v{n}", "w").write(text)
        n += 1
PY
      ;;
    stix_fuzz|signature_fuzz)
      find "$data/stix" -name '*.json' -size -64k | head -200 | while read -r f; do cp "$f" "$dir/"; done ;;
    events_fuzz)
      for f in "$data"/logs/zeek/stratosphere-slips-test9-mixed/*.log; do
        { printf '\0'; head -c 4000 "$f"; } > "$dir/zeek-$(basename "$f")"; done ;;
    match_fuzz)  # log values: DNS queries and answers, addresses, 24 per input
      # (awk reads to the end: with head, the writers' SIGPIPE failed the script under pipefail)
      zstd -dc "$data/logs/zeek/wrccdc-2018/tsv/dns.log.zst" |
        awk -F'\t' '!/^#/ && n++ < 2400 {print $3; print $5; print $10}' | split -l 24 - "$dir/dns-" ;;
    feeds_fuzz)
      for f in "$data"/indicators/firehol/spamhaus_drop.netset "$data"/indicators/urlhaus/urlhaus-filter-domains.txt; do
        head -c 4000 "$f" > "$dir/$(basename "$f")"; done ;;
  esac
}

status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t/corpus"
  seeds "$t"
  echo "== $t: ${secs}s"
  if ! "build-fuzz/$(find build-fuzz -name "$t" -type f -executable -printf '%P\n' | head -1)" \
      -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=4096 \
      -artifact_prefix="$work/$t/" "$work/$t/corpus" "tests/fuzz/$t" "$work/$t/seeds-real" \
      2>&1 | grep -E "DONE|ERROR|SUMMARY|crash-|timeout-|oom-|^==" ; then :; fi
  # (ls of the three globs together failed whenever one of them matched nothing)
  if compgen -G "$work/$t/crash-*" >/dev/null || compgen -G "$work/$t/timeout-*" >/dev/null ||
      compgen -G "$work/$t/oom-*" >/dev/null; then
    echo "!! $t: failing inputs in $work/$t/"; status=1
  fi
done
exit $status
