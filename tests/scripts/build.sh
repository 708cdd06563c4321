#!/usr/bin/env bash
# Builds the release module for the page into www/pkg (git-ignored) and shrinks it with
# npm's binaryen wasm-opt -Oz. Prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
wasm-pack build --release --target web --out-dir www/pkg --out-name kinesis-browser-producer --no-pack
wasm=www/pkg/kinesis-browser-producer_bg.wasm
node_modules/.bin/wasm-opt -Oz "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"
for f in "$wasm" www/pkg/kinesis-browser-producer.js; do
  printf 'build: %-45s %8d bytes raw, %7d gzip -9\n' "$f" "$(wc -c < "$f")" "$(gzip -9 -c "$f" | wc -c)"
done
