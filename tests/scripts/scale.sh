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
# A native build optimised for speed: the release profile's opt-level "z" is for the page's
# wasm module. Fat LTO in one codegen unit inlines the core into the simulation's loop: the
# build takes about 70 s instead of 30, the 10,000-producer runs about 10% less CPU. A
# target dir of its own, so a build in target/ is not disturbed.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/scale}"
export CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
# The 10,000-producer runs hold 2-5 GB and touch it at random: glibc's malloc asking for
# transparent huge pages (where the kernel has them in `madvise` mode) halves the system
# time and cuts TLB misses, about 5-10% of the wall time here. Ignored where unsupported.
export GLIBC_TUNABLES="${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}"
# The figures are kept as JSON too: `--from-results` writes the section again from them.
args=(--benchmarks BENCHMARKS.md --svg tests/scale/scale.svg --results "$CARGO_TARGET_DIR/scale-results.json")
[ -z "${SCALE_QUICK:-}" ] || args+=(--quick)
start=$(date +%s)
cargo run --release --quiet --example scale -- "${args[@]}" "$@"
echo "scale: done in $(( $(date +%s) - start )) s"
