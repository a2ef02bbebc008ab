# Sourced (by edge/build.sh, examples/starter/check.sh): installs on first use the pinned
# tools a Worker build needs, the wasm32 target, worker-build and wasm-bindgen-cli from
# crates.io, wrangler, esbuild and binaryen's wasm-opt from npm (edge/package-lock.json),
# and points worker-build at them: it would download wasm-bindgen, wasm-opt and esbuild
# from GitHub otherwise.
edge_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

WORKER_BUILD_VERSION=0.8.7      # = the `worker` crate in the workspace's Cargo.toml
WASM_BINDGEN_VERSION=0.2.130    # = the `wasm-bindgen` crate in edge/Cargo.toml

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
installed() { command -v "$1" >/dev/null && "$1" --version 2>/dev/null | grep -q "$2"; }
installed worker-build "$WORKER_BUILD_VERSION" || cargo install --locked worker-build --version "=$WORKER_BUILD_VERSION"
# wasm-bindgen-cli does not build with its own lockfile on current Rust: no --locked.
installed wasm-bindgen "$WASM_BINDGEN_VERSION" || cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
[ -x "$edge_dir/node_modules/.bin/wrangler" ] || (cd "$edge_dir" && npm ci --no-audit --no-fund --loglevel=error)

WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export WASM_BINDGEN_BIN
export ESBUILD_BIN="$edge_dir/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$edge_dir/node_modules/.bin/wasm-opt"
export WRANGLER="$edge_dir/node_modules/.bin/wrangler"
# wrangler, offline and quiet.
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_HIDE_BANNER=true
