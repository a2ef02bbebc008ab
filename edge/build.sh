#!/usr/bin/env bash
# Builds the Worker into edge/build/ (worker-build's shim.mjs + index.wasm), installing on
# first use the pinned tools it needs: the wasm32 target, worker-build and
# wasm-bindgen-cli from crates.io, and wrangler, esbuild and binaryen's wasm-opt from npm
# (edge/package-lock.json). worker-build would download wasm-bindgen, wasm-opt and esbuild
# from GitHub; the *_BIN variables point it at these local copies instead.
#   EDGE_PROFILE=dev  for a quick unoptimized build (default: release)
#   EDGE_FEATURES=tests  with what the tests need: the e2e and conformance apps, the
#                        inspection routes
set -euo pipefail
cd "$(dirname "$0")"

WORKER_BUILD_VERSION=0.8.7      # = the `worker` crate in edge/Cargo.toml
WASM_BINDGEN_VERSION=0.2.130    # = the `wasm-bindgen` crate in edge/Cargo.toml

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
installed() { command -v "$1" >/dev/null && "$1" --version 2>/dev/null | grep -q "$2"; }
installed worker-build "$WORKER_BUILD_VERSION" || cargo install --locked worker-build --version "=$WORKER_BUILD_VERSION"
# wasm-bindgen-cli does not build with its own lockfile on current Rust: no --locked.
installed wasm-bindgen "$WASM_BINDGEN_VERSION" || cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
[ -x node_modules/.bin/wrangler ] || npm ci --no-audit --no-fund --loglevel=error

export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
features=()
[ -z "${EDGE_FEATURES:-}" ] || features=(-- --features "$EDGE_FEATURES")
case "${EDGE_PROFILE:-release}" in
  dev) worker-build --dev --no-opt "${features[@]}" ;;
  *) worker-build --profile edge "${features[@]}" ;;
esac
