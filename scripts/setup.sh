#!/usr/bin/env bash
# Installs what building and testing need, on a fresh machine or an old one; idempotent
# and quick when everything is there. Called by `npm test` and `npm run dev`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Must equal the `wasm-bindgen = "=..."` pin in Cargo.toml (the CLI and crate must match).
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = .*"=\([0-9.]*\)".*/\1/p' Cargo.toml)
if [[ -z "$WASM_BINDGEN_VERSION" ]]; then
  echo "setup: no exact wasm-bindgen pin (\"=x.y.z\") found in Cargo.toml" >&2
  exit 1
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
  echo "setup: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes, once)"
  # No --locked: one locked dependency version is missing from the registry mirror here.
  # --force: cargo's own records may claim an install whose binary is gone or another version.
  cargo install --quiet --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
    echo "setup: wasm-bindgen $WASM_BINDGEN_VERSION is still not on PATH (is ~/.cargo/bin on PATH?)" >&2
    exit 1
  fi
fi

# node_modules brings Node 22 (wrangler needs it), wrangler, workerd, vitest and wasm-opt.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
