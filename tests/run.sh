#!/usr/bin/env bash
# The test command (README): installs on a fresh Debian machine what the tests need, then
# runs them all (tests that need Redis start their own redis-server on a free loopback
# port): formatting and lints, rustdoc, the wasm build of the portable crates, unit and
# property tests, and the end-to-end tests with the official clients (Node, Python,
# headless Chromium) against servers the tests start themselves on free loopback ports:
# the native runtime (memory, then Redis), then the Cloudflare Worker under workerd, then
# the AWS Lambda functions under cargo lambda's runtime API; then the starter application
# (examples/starter) on all three.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
if ((${#missing[@]})); then
  step "installing ${missing[*]} from Debian"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

step "npm packages"
(cd tests && npm ci --no-audit --no-fund --loglevel=error)
step "Python clients"
[ -x tests/.venv/bin/python ] || python3 -m venv tests/.venv
tests/.venv/bin/pip install -q --disable-pip-version-check -r tests/py/requirements.txt

step "format and lints"
# --locked everywhere: a stale Cargo.lock fails the run instead of changing a tracked file.
cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo clippy --locked -p sio-cloudflare -p sio-test-worker -p chat-worker --target wasm32-unknown-unknown --all-targets \
  --features sio-cloudflare/inspect -- -D warnings

step "documentation: rustdoc without warnings (the guide's code is compiled with the unit tests: sio-docs)"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --workspace
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps -p sio-cloudflare --target wasm32-unknown-unknown

step "portable crates build for wasm32-unknown-unknown"
cargo build --locked -p sio-core -p sio-engine -p chat -p sio-test-apps --no-default-features --target wasm32-unknown-unknown

step "unit and property tests"
cargo test --locked --workspace

step "fuzzing: every target for ${FUZZ_SECONDS:=40} s (fuzz/)"
# libFuzzer needs rustc's unstable flags; no nightly toolchain can be fetched on a fresh
# machine, so the stable one is told to accept them. Rust code needs no AddressSanitizer.
fuzz_version=0.13.1
cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $fuzz_version" || cargo install -q cargo-fuzz --locked --version "$fuzz_version"
(
  cd fuzz
  export RUSTC_BOOTSTRAP=1
  cargo metadata --locked --format-version 1 >/dev/null # cargo fuzz has no --locked
  cargo fuzz build --sanitizer none
  for target in $(cargo fuzz list); do
    mkdir -p "corpus/$target"
    if ! cargo fuzz run --sanitizer none "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$FUZZ_SECONDS" -max_len=4096 -timeout=10 >"target/$target.log" 2>&1; then
      tail -40 "target/$target.log"
      exit 1
    fi
    echo "$target: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "target/$target.log")"
  done
)

step "release servers"
cargo build --locked --release --workspace --bins

step "Node client end to end, bad input, limits, chat page in Chromium"
(cd tests && node --test js/ browser/)

step "the same end-to-end tests against the endpoint mounted in an axum router (a tower Service)"
(cd tests && E2E_SERVER="$PWD/../target/release/e2e-axum" node --test js/e2e.test.mjs js/bad-input.test.mjs js/limits.test.mjs js/engine-hooks.test.mjs)

step "Python client end to end"
tests/.venv/bin/pytest -q tests/py

step "the same end-to-end tests with state in Redis"
redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true' EXIT
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done
export E2E_SERVER_ARGS="--redis redis://127.0.0.1:$redis_port/"
# Each test server keeps its keys under a prefix of its own (tests/js/harness.mjs), so
# servers running side by side stay apart (cluster.test.mjs shares one on purpose).
(cd tests && node --test js/e2e.test.mjs js/bad-input.test.mjs js/limits.test.mjs js/engine-hooks.test.mjs)
tests/.venv/bin/pytest -q tests/py --ignore=tests/py/test_cluster.py
(cd tests && SIO_REDIS_URL="redis://127.0.0.1:$redis_port/" node --test browser/)
unset E2E_SERVER_ARGS

step "Cloudflare runtime: the Worker (pinned tools installed on first use), the same tests under workerd"
bash edge/build.sh tests/apps/worker
export E2E_SERVER="$PWD/tests/edge/serve.mjs" E2E_RUNTIME=edge
(cd tests && node --test js/e2e.test.mjs js/bad-input.test.mjs js/limits.test.mjs js/engine-hooks.test.mjs edge/)
tests/.venv/bin/pytest -q tests/py --ignore=tests/py/test_cluster.py
(cd tests && EDGE_APP=chat DEMO_SERVER="$E2E_SERVER" node --test browser/)
unset E2E_SERVER E2E_RUNTIME

step "AWS Lambda runtime: the functions under cargo lambda (PyPI), the same tests, sam validate"
# Pinned tools in a venv of their own: cargo-lambda's runtime API serves the function
# binaries, aws-sam-cli checks template.yaml (offline).
[ -x tests/lambda/.venv/bin/cargo-lambda ] || python3 -m venv tests/lambda/.venv
tests/lambda/.venv/bin/pip install -q --disable-pip-version-check cargo-lambda==1.9.2 aws-sam-cli==1.170.0
export CARGO_LAMBDA="$PWD/tests/lambda/.venv/bin/cargo-lambda" E2E_SERVER="$PWD/tests/lambda/serve.mjs" E2E_RUNTIME=lambda
(cd tests && node --test js/e2e.test.mjs js/bad-input.test.mjs js/limits.test.mjs js/engine-hooks.test.mjs lambda/lambda.test.mjs)
tests/.venv/bin/pytest -q tests/py --ignore=tests/py/test_cluster.py
(cd tests && LAMBDA_APP=chat DEMO_SERVER="$E2E_SERVER" node --test browser/)
SAM_CLI_TELEMETRY=0 tests/lambda/.venv/bin/sam validate --lint --region us-east-1 --template template.yaml
unset CARGO_LAMBDA E2E_SERVER E2E_RUNTIME

step "the starter (examples/starter): built for every runtime, its test on each"
time bash examples/starter/check.sh

step "all tests passed"
