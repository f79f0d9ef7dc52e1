#!/usr/bin/env bash
# Installs the Debian 12 packages cordon needs to build, test and benchmark,
# skipping what is already there. Needs root (or sudo) only when something is missing.
# Extra packages given as arguments are installed the same way (scripts/fuzz.sh: clang).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-system-dev libssl-dev openssl
  libsimdjson-dev libsqlite3-dev sqlite3 libsodium-dev libabsl-dev
  libcli11-dev libfmt-dev libspdlog-dev libzstd-dev zstd libicu-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libhyperscan-dev libidn2-dev libpsl-dev
  python3 curl wrk bc ccache
  unbound bind9 bind9-dnsutils knot-dnsutils
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
