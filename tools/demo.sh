#!/usr/bin/env bash
# Builds the release configuration of the demo program and runs it.
set -euo pipefail

cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target sealpool_demo
echo
exec ./build/release/tools/sealpool_demo build/release/sealpool-arena-map.svg
