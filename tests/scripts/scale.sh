#!/usr/bin/env bash
# `npm run scale` (not a test): many producers, one stream, simulated — N instances of the
# producer core against a model of a Kinesis stream, in virtual time (tests/scale/sim.rs,
# tests/scale/cli.rs). Prints one summary line per run, rewrites the "Many producers, one
# stream" section of BENCHMARKS.md (between its markers; the rest of the file is kept as it
# is) and draws tests/scale/scale.svg. Needs only cargo.
#   SCALE_QUICK=1 npm run scale      the same runs, shorter (a few minutes)
#   npm run scale -- --threads 1     arguments go to the CLI (see tests/scale/cli.rs)
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || { echo "scale: cargo (Rust) is required: https://rustup.rs" >&2; exit 1; }
# A native build optimised for speed: the release profile's opt-level "z" and LTO are for
# the page's wasm module. A target dir of its own, so a build in target/ is not disturbed.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/scale}"
export CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
# The figures are kept as JSON too: `--from-results` writes the section again from them.
args=(--benchmarks BENCHMARKS.md --svg tests/scale/scale.svg --results "$CARGO_TARGET_DIR/scale-results.json")
[ -z "${SCALE_QUICK:-}" ] || args+=(--quick)
start=$(date +%s)
cargo run --release --quiet --example scale -- "${args[@]}" "$@"
echo "scale: done in $(( $(date +%s) - start )) s"
