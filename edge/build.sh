#!/usr/bin/env bash
# Builds a Worker crate (a cdylib that calls `sio_cloudflare::worker!`) into its build/
# folder (worker-build's shim.mjs + index.wasm), installing on first use the pinned tools
# it needs: the wasm32 target, worker-build and wasm-bindgen-cli from crates.io, and
# wrangler, esbuild and binaryen's wasm-opt from npm (edge/package-lock.json).
# worker-build would download wasm-bindgen, wasm-opt and esbuild from GitHub; the *_BIN
# variables point it at these local copies instead.
#   bash edge/build.sh [CRATE_DIR]   default examples/chat/worker (the demo chat); the
#                                    tests build tests/apps/worker
#   EDGE_PROFILE=dev  for a quick unoptimized build (default: release, size first)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
crate="$(cd "${1:-$root/examples/chat/worker}" && pwd)"

WORKER_BUILD_VERSION=0.8.7      # = the `worker` crate in edge/Cargo.toml
WASM_BINDGEN_VERSION=0.2.130    # = the `wasm-bindgen` crate in edge/Cargo.toml

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
installed() { command -v "$1" >/dev/null && "$1" --version 2>/dev/null | grep -q "$2"; }
installed worker-build "$WORKER_BUILD_VERSION" || cargo install --locked worker-build --version "=$WORKER_BUILD_VERSION"
# wasm-bindgen-cli does not build with its own lockfile on current Rust: no --locked.
installed wasm-bindgen "$WASM_BINDGEN_VERSION" || cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
[ -x "$root/edge/node_modules/.bin/wrangler" ] || (cd "$root/edge" && npm ci --no-audit --no-fund --loglevel=error)

export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$root/edge/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$root/edge/node_modules/.bin/wasm-opt"
cd "$crate"
case "${EDGE_PROFILE:-release}" in
  dev) worker-build --dev --no-opt ;;
  *) worker-build --profile edge ;;
esac
