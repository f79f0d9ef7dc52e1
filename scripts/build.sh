#!/usr/bin/env bash
# Configures and builds cordon into build/ (Release with debug info); the binary is build/cordon.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys relative to the folder holding the checkout(s), so work trees share objects.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(cd .. && pwd)}"
if [ ! -f build/build.ninja ]; then
  cmake --preset release >/dev/null
fi
cmake --build build -j "${CORDON_JOBS:-2}"
