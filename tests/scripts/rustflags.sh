# The flags of the module's release build, sourced by build.sh and bench.sh.
# The same bytes on every machine: no local paths in the module (panic locations).
export RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo --remap-path-prefix=$PWD=/kbp"
# sha2's compact SHA-256 (a loop, not 64 unrolled rounds): 7.3 KB of the module less (1.3 KB
# gzip) for about 8% slower hashing (measured natively at opt-level z: 119 against 129 MB/s);
# the benchmark's signing figure is with it. The wasm-bindgen browser tests build without it
# (the same crate, unrolled); what pages load, and what the e2e tests load, is built with it.
RUSTFLAGS="$RUSTFLAGS --cfg sha2_backend_soft=\"compact\""
