#!/usr/bin/env bash
# The README's test command: sets up what is missing, then runs every test.
#   1. lint: rustfmt, clippy -D warnings (native and wasm32), cfn-lint on the template
#   2. the sans-IO core natively: cargo test
#   3. the local stack checked from outside with the AWS SDK, the template's policies: node --test
#   4. the release build (wasm-opt -Oz) within its size budget; the npm package in Vite and
#      webpack apps, and tsc on its types
#   5. end to end: the script tag with trusted input in Chromium (playwright-core), Firefox
#      and WebKit (WebDriver Actions)
#   6. the module's browser tests in Chromium, Firefox and WebKit against a fresh local stack
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
cargo test --test scale_invariants

echo "== local stack (node)"
node --test tests/stack/*.test.mjs

echo "== release build"
bash tests/scripts/build.sh

echo "== size budget of the script tag (gzip)"
node tests/scripts/size.mjs

echo "== the npm package: Vite and webpack apps from the packed tarball, tsc on its types"
node --test --test-concurrency=1 tests/bundlers/*.test.mjs

echo "== end to end: Chromium (playwright-core), Firefox and WebKit (WebDriver)"
# WebKitGTK's MiniBrowser needs a display: Xvfb.
xvfb-run -a node --test --test-concurrency=1 tests/e2e/*.test.mjs

echo "== browser tests (wasm-bindgen-test): Chromium, Firefox, WebKit"
bash tests/scripts/browser-tests.sh chrome
bash tests/scripts/browser-tests.sh firefox
xvfb-run -a bash tests/scripts/browser-tests.sh webkit
