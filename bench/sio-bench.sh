#!/usr/bin/env bash
# Builds the sio-bench load generator in a copy of its sources (they may be read-only) and
# prints the path of the binary. Shared by bench/run.sh and bench/redis.sh.
#
#   SIO_BENCH_SRC  sources (default ../shared/tools/sio-bench beside the repository)
#   SIO_BENCH_DIR  build copy, kept between runs for incremental builds
#                  (default ${TMPDIR:-/tmp}/sio-bench-build)
#   SKIP_BUILD=1   print the path only
set -euo pipefail
SIO_BENCH_SRC=${SIO_BENCH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)/shared/tools/sio-bench}
[[ -d $SIO_BENCH_SRC ]] || { echo "sio-bench sources not found at $SIO_BENCH_SRC: set SIO_BENCH_SRC" >&2; exit 1; }
SIO_BENCH_DIR=${SIO_BENCH_DIR:-${TMPDIR:-/tmp}/sio-bench-build}
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  printf '[bench] building sio-bench in %s\n' "$SIO_BENCH_DIR" >&2
  mkdir -p "$SIO_BENCH_DIR"
  cp -r "$SIO_BENCH_SRC/Cargo.toml" "$SIO_BENCH_SRC/Cargo.lock" "$SIO_BENCH_SRC/src" "$SIO_BENCH_DIR/"
  chmod -R u+w "$SIO_BENCH_DIR"
  (cd "$SIO_BENCH_DIR" && cargo build --release --locked >&2)
fi
echo "$SIO_BENCH_DIR/target/release/sio-bench"
