#!/usr/bin/env bash
# The README's test command: sets up what is missing, then runs every test.
#   1. lint: rustfmt, clippy -D warnings (native and wasm32), cfn-lint on the template
#   2. the sans-IO core natively: cargo test
#   3. the local stack checked from outside with the AWS SDK, the template's policies: node --test
#   4. the release build (wasm-opt -Oz) within its size budget; the npm package in Vite and
#      webpack apps, and tsc on its types
#   5. end to end: a page with only the script tag, trusted input via playwright-core
#   6. the module in headless Chromium against a fresh local stack: wasm-pack test
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
bash tests/scripts/setup.sh

echo "== lint"
cargo fmt --check
cargo clippy --all-targets -q -- -D warnings
cargo clippy --all-targets -q --target wasm32-unknown-unknown -- -D warnings
cargo clippy --all-targets -q --target wasm32-unknown-unknown --features demo -- -D warnings

echo "== CloudFormation template (cfn-lint)"
python3 -c "import sys; from cfnlint.runner import main; sys.argv = ['cfn-lint', 'www/aws/template.json']; sys.exit(main())"

echo "== core (native)"
cargo test --lib

echo "== local stack (node)"
node --test tests/stack/*.test.mjs

echo "== release build"
bash tests/scripts/build.sh

echo "== size budget of the script tag (gzip)"
node tests/scripts/size.mjs

echo "== the npm package: Vite and webpack apps from the packed tarball, tsc on its types"
node --test --test-concurrency=1 tests/bundlers/*.test.mjs

echo "== end to end (script tag, trusted input)"
node --test --test-concurrency=1 tests/e2e/*.test.mjs

echo "== browser (headless Chromium)"
# Ports of their own, so a running demo does not get in the way.
export KBP_KINESIS_PORT=14566 KBP_AUTH_PORT=14577 KBP_STORE_PORT=14567
export KBP_KINESIS_ENDPOINT="http://127.0.0.1:$KBP_KINESIS_PORT" KBP_AUTH_ENDPOINT="http://127.0.0.1:$KBP_AUTH_PORT"
log=$(mktemp)
node tests/stack/cli.mjs > "$log" 2>&1 &
stack_pid=$!
trap 'kill $stack_pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q '^ready' "$log" && break; kill -0 $stack_pid 2>/dev/null || break; sleep 0.1; done
grep -q '^ready' "$log" || { cat "$log"; echo "the local stack did not start" >&2; exit 1; }
WASM_BINDGEN_TEST_TIMEOUT=120 wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)" -- --features demo --test web --test producer --test aggregation --test skew
