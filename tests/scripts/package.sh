#!/usr/bin/env bash
# The npm package: www/pkg (the product build, from build.sh) with package.json, README and
# LICENSE, packed with `npm pack` into dist/kinesis-browser-producer-<version>.tgz (dist/ is
# git-ignored). Prints the tarball's path.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f www/pkg/kinesis-browser-producer.js ] || { echo "www/pkg is missing: run tests/scripts/build.sh" >&2; exit 1; }
version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)
rm -rf dist/npm && mkdir -p dist/npm
cp -r www/pkg/. dist/npm/
rm -f dist/npm/.gitignore
cp src/js/README.md LICENSE dist/npm/
node -e "const p=require('./src/js/package.json'); p.version=process.argv[1]; require('fs').writeFileSync('dist/npm/package.json', JSON.stringify(p, null, 2) + '\n')" "$version"
(cd dist && npm pack ./npm --silent --pack-destination . > /dev/null)
echo "dist/kinesis-browser-producer-$version.tgz"
