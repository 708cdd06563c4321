#!/usr/bin/env bash
# The wasm-bindgen browser tests (tests/{web,producer,aggregation,skew}.rs) in one browser
# against a fresh local stack on ports of their own: `browser-tests.sh chrome|firefox|webkit`.
# Chromium and Firefox through wasm-pack; WebKit (WebKitGTK's MiniBrowser under Xvfb) through
# wasm-bindgen-test-runner with its WebDriver behind tests/scripts/webkit-driver.mjs.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
browser=${1:?chrome, firefox or webkit}
export KBP_KINESIS_PORT=14566 KBP_AUTH_PORT=14577 KBP_STORE_PORT=14567
export KBP_KINESIS_ENDPOINT="http://127.0.0.1:$KBP_KINESIS_PORT" KBP_AUTH_ENDPOINT="http://127.0.0.1:$KBP_AUTH_PORT"
export WASM_BINDGEN_TEST_TIMEOUT=180
files=(web producer aggregation skew)
tests=(); for f in "${files[@]}"; do tests+=(--test "$f"); done
log=$(mktemp)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -f "$log"; }
trap cleanup EXIT
node tests/stack/cli.mjs > "$log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^ready' "$log" && break; sleep 0.1; done
grep -q '^ready' "$log" || { cat "$log"; echo "the local stack did not start" >&2; exit 1; }
case "$browser" in
  chrome)
    wasm-pack test --headless --chrome --chromedriver "$(command -v chromedriver)" -- --features demo "${tests[@]}" ;;
  firefox)
    wasm-pack test --headless --firefox --geckodriver "$(command -v geckodriver)" -- --features demo "${tests[@]}" ;;
  webkit)
    wk=$(mktemp)
    node tests/scripts/webkit-driver.mjs > "$wk" &
    pids+=($!)
    for _ in $(seq 1 100); do grep -q '^webdriver' "$wk" && break; sleep 0.1; done
    export SAFARIDRIVER_REMOTE; SAFARIDRIVER_REMOTE=$(awk '/^webdriver/ { print $2 }' "$wk")
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
    # WebKit runs the release build of these tests, the code the page gets. The debug build
    # trips JavaScriptCore's optimizing wasm tier (OMG, WebKitGTK 2.50.6, x86-64): measured
    # 2026-12-02, tests/producer.rs failed 5 runs in 10 with SigV4 signatures that do not
    # match -- the same body, key and time give the front door's signature when signed
    # natively -- and 0 in 10 with JSC_useOMGJIT=0, and the release build 0 in 10 with every
    # tier on. Chromium and Firefox run the debug build (overflow checks, debug asserts) clean.
    # JavaScriptCore's wasm tiers on Linux now and then fault on memory safe code cannot
    # touch (this crate forbids unsafe; Chromium and Firefox run the same binary clean):
    # a known engine problem (github.com/tauri-apps/tauri/issues/7154, WebKit bug 259441;
    # github.com/oven-sh/bun/issues/17146). A test file that fails with that fault, and only
    # that, is run once more and the fault is printed; every other failure fails at once.
    for t in "${files[@]}"; do
      out=$(mktemp)
      if cargo test --release --target wasm32-unknown-unknown --features demo --test "$t" 2>&1 | tee "$out"; then
        rm -f "$out"; continue
      fi
      if grep -q 'RuntimeError: Out of bounds memory access' "$out" && ! grep -q 'panicked at' "$out"; then
        echo "!! WebKit: tests/$t.rs hit JavaScriptCore's out-of-bounds fault (above); running it once more" >&2
        rm -f "$out"
        cargo test --release --target wasm32-unknown-unknown --features demo --test "$t"
      else
        rm -f "$out"; exit 1
      fi
    done ;;
  *) echo "unknown browser $browser" >&2; exit 2 ;;
esac
