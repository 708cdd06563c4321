#!/usr/bin/env bash
# Builds the release module for the page into www/pkg (git-ignored): the wasm-bindgen
# output (kbp_core*) shrunk with npm's binaryen wasm-opt -Oz, and the loader
# kinesis-browser-producer.js that pages embed or import. Prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
rm -rf www/pkg
wasm-pack build --release --target web --out-dir www/pkg --out-name kbp_core --no-pack
wasm=www/pkg/kbp_core_bg.wasm
node_modules/.bin/wasm-opt -Oz "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"
cp src/js/kinesis-browser-producer.js src/js/kinesis-browser-producer.d.ts www/pkg/
for f in "$wasm" www/pkg/kbp_core.js www/pkg/kinesis-browser-producer.js; do
  printf 'build: %-40s %8d bytes raw, %7d gzip -9\n' "$f" "$(wc -c < "$f")" "$(gzip -9 -c "$f" | wc -c)"
done
