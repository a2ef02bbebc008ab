#!/usr/bin/env bash
# Builds a Worker crate (a cdylib that calls `sio_cloudflare::worker!`) into its build/
# folder (worker-build's shim.mjs + index.wasm), with the pinned tools of edge/tools.sh
# (installed on first use).
#   bash edge/build.sh [CRATE_DIR]   default examples/chat/worker (the demo chat); the
#                                    tests build tests/apps/worker
#   EDGE_PROFILE=dev  for a quick unoptimized build (default: the `edge` profile, size first)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
crate="$(cd "${1:-$root/examples/chat/worker}" && pwd)"
source "$root/edge/tools.sh"
cd "$crate"
case "${EDGE_PROFILE:-release}" in
  dev) worker-build --dev --no-opt ;;
  *) worker-build --profile edge ;;
esac
