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
  # What pages load is one minified ES module: the loader with the wasm-bindgen glue and its
  # snippet bundled in (about 2.7 KB less gzip minified, 0.4 KB less again as one file, and
  # one fetch where the page waited for three in turn). The glue's own .d.ts stays for the
  # types; the glue finds the .wasm next to the bundle (import.meta.url). The demo's build
  # stays readable, file by file.
  if [ "$out" = pkg ]; then
    # The glue imports its snippet's module twice under two names (duplicate-object-key).
    node_modules/.bin/esbuild "www/$out/kinesis-browser-producer.js" --bundle --minify --format=esm \
      --log-level=warning --log-override:duplicate-object-key=silent --outfile="www/$out/bundle.js"
    mv "www/$out/bundle.js" "www/$out/kinesis-browser-producer.js"
    rm -r "www/$out/kbp_core.js" "www/$out/snippets"
  fi
done
for f in www/pkg/kbp_core_bg.wasm www/pkg/kinesis-browser-producer.js; do
  printf 'build: %-40s %8d bytes raw, %7d gzip -9\n' "$f" "$(wc -c < "$f")" "$(gzip -9 -c "$f" | wc -c)"
done
