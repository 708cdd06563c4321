# The flags of the module's release build, sourced by build.sh and bench.sh.
# The same bytes on every machine: no local paths in the module (panic locations).
# (sha2's compact SHA-256, `--cfg sha2_backend_soft="compact"`, is 1.3 KB gzip smaller, but
# the benchmark measured signing 28% slower with it in Chromium, below @smithy/signature-v4.)
export RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo --remap-path-prefix=$PWD=/kbp"
