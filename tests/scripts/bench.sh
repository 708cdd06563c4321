#!/usr/bin/env bash
# The benchmark command (`npm run bench`): set-up, release build, then tests/bench/run.mjs,
# which rewrites BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/scripts/setup.sh
bash tests/scripts/build.sh
node tests/bench/run.mjs
