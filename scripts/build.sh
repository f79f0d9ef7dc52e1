#!/usr/bin/env bash
# Configures and builds cordon into build/ (Release with debug info); the binary is build/cordon.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  cmake --preset release >/dev/null
fi
cmake --build build -j "${CORDON_JOBS:-2}"
