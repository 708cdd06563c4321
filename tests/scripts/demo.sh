#!/usr/bin/env bash
# The README's demo command: sets up what is missing, builds the module, starts the local
# stack and serves www/ on 127.0.0.1:8080. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/scripts/setup.sh
bash tests/scripts/build.sh
exec node tests/stack/cli.mjs --www
