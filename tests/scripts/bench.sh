#!/usr/bin/env bash
# The benchmark command (`npm run bench`): set-up, release build, a names-kept build of the
# product module for twiggy (per-crate sizes), then tests/bench/run.mjs, which rewrites
# BENCHMARKS.md. BENCH_NO_BUILD=1 skips the release build (www/pkg is used as it is).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
bash tests/scripts/setup.sh
[ -n "${BENCH_NO_BUILD:-}" ] || bash tests/scripts/build.sh
if ! command -v twiggy >/dev/null; then
  echo "bench: installing twiggy"
  cargo install twiggy --locked
fi
# The same flags as tests/scripts/build.sh, in a target dir of its own: the names stay (no
# wasm-opt), and a build running at the same time in target/ is not disturbed.
# shellcheck source=tests/scripts/rustflags.sh
source tests/scripts/rustflags.sh
export CARGO_TARGET_DIR=target/bench
cargo build --release --target wasm32-unknown-unknown --lib
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wasm-bindgen --target web --keep-debug --out-dir "$tmp" "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/kinesis_browser_producer.wasm"
twiggy top -n 100000 -f csv "$tmp/kinesis_browser_producer_bg.wasm" > "$tmp/twiggy.csv"
BENCH_TWIGGY_CSV="$tmp/twiggy.csv" BENCH_TWIGGY_WASM="$tmp/kinesis_browser_producer_bg.wasm" node tests/bench/run.mjs
