#!/usr/bin/env bash
# Installs what building and testing need, and skips what is already there. Safe to run
# any number of times; CI and every new machine start bare.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
say() { echo "setup: $*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

command -v cargo >/dev/null || { echo "setup: cargo (Rust) is required: https://rustup.rs" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup: Node.js 20+ with npm is required" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Browsers and their WebDriver servers (Debian packages): Chromium, Firefox ESR, and WebKitGTK's
# driver with its MiniBrowser, which runs under Xvfb.
pkgs=()
{ command -v chromium >/dev/null && command -v chromedriver >/dev/null; } || pkgs+=(chromium chromium-driver)
command -v firefox-esr >/dev/null || pkgs+=(firefox-esr)
command -v WebKitWebDriver >/dev/null || pkgs+=(webkit2gtk-driver)
command -v xvfb-run >/dev/null || pkgs+=(xvfb)
if [ ${#pkgs[@]} -gt 0 ]; then
  say "installing ${pkgs[*]} (Debian packages)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi
if ! command -v geckodriver >/dev/null; then
  say "installing geckodriver (Firefox's WebDriver)"
  # The npm package of geckodriver downloads a binary at install time, which fails here.
  cargo install geckodriver --locked
fi

# wasm-bindgen CLI must be exactly the wasm-bindgen version in Cargo.lock.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (have: ${have:-none})"
  # --locked fails for this crate (a pinned dependency is missing from the registry).
  cargo install wasm-bindgen-cli --version "$want" --force
fi

if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack"
  # The npm package of wasm-pack downloads a binary at install time, which fails here.
  cargo install wasm-pack --locked
fi

# npm packages: the local stack (kinesalite, the AWS SDK's signer and client) and binaryen's
# wasm-opt (never Debian's: its wasm-opt 108 produces modules that fail to load).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
# pip packages: cfn-lint checks the CloudFormation template (www/aws/template.json).
if ! python3 -c "import cfnlint" 2>/dev/null; then
  say "installing cfn-lint (pip)"
  python3 -m pip install --quiet --disable-pip-version-check cfn-lint
fi
say "ready"
