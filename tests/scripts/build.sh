#!/usr/bin/env bash
# Builds the release module for the page into www/pkg (git-ignored): the wasm-bindgen
# output (kbp_core*) shrunk with npm's binaryen wasm-opt -Oz, and the loader
# kinesis-browser-producer.js that pages embed or import; and the demo's build in
# www/pkg-demo. Prints the product's sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
# shellcheck source=tests/scripts/rustflags.sh
source tests/scripts/rustflags.sh
# The product (what pages load) in www/pkg; the demo build (with the consumer view and the
# benchmark's helper: cargo feature "demo") in www/pkg-demo.
for out in pkg pkg-demo; do
  features=""
  [ "$out" = pkg-demo ] && features="--features demo"
  rm -rf "www/$out"
  # shellcheck disable=SC2086
  wasm-pack build --release --target web --out-dir "www/$out" --out-name kbp_core --no-pack -- $features
  wasm="www/$out/kbp_core_bg.wasm"
  # --converge: -Oz again until the module stops shrinking (about 170 bytes gzip). The
  # producers and target_features custom sections (toolchain metadata: browsers ignore them)
  # go last, once the passes have read the features (about 200 bytes gzip).
  node_modules/.bin/wasm-opt -Oz --converge --strip-producers --strip-target-features "$wasm" -o "$wasm.opt"
  mv "$wasm.opt" "$wasm"
  cp src/js/kinesis-browser-producer.js src/js/kinesis-browser-producer.d.ts "www/$out/"
  # What pages load is minified, file by file (ESM kept, no bundling): the glue, the loader
  # and the snippet are about 2.7 KB less gzip. The demo's build stays readable.
  if [ "$out" = pkg ]; then
    for js in "www/$out/kbp_core.js" "www/$out/kinesis-browser-producer.js" www/"$out"/snippets/*/*.js; do
      node_modules/.bin/esbuild "$js" --minify --format=esm --log-level=warning --outfile="$js.min"
      mv "$js.min" "$js"
    done
  fi
done
for f in www/pkg/kbp_core_bg.wasm www/pkg/kbp_core.js www/pkg/kinesis-browser-producer.js; do
  printf 'build: %-40s %8d bytes raw, %7d gzip -9\n' "$f" "$(wc -c < "$f")" "$(gzip -9 -c "$f" | wc -c)"
done
