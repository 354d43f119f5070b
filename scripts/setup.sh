#!/usr/bin/env bash
# Installs what building and testing need, on a fresh machine or an old one; idempotent
# and quick when everything is there. Called by `npm test` (with --test) and `npm run dev`.
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

# With --test: a headless Chromium for the browser tests (tests/browser), from Debian's
# packages; playwright-core drives it (no browser download). Elsewhere, set CHROMIUM to a
# Chromium or Chrome binary.
if [[ "${1:-}" == --test && ! -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup: the browser tests need Chromium: install it and set CHROMIUM to its path" >&2
    exit 1
  fi
  echo "setup: installing Debian's chromium (once)"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get install -y -qq chromium >/dev/null || { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null; }
fi

# With --test (scripts/test.sh): Schemathesis (PyPI), for the contract run
# (scripts/schemathesis.sh), in a virtual environment of its own with every package pinned.
# The copy of the pins in .venv says what it holds. `npm run dev` and packing need no Python.
PINS=tests/http/schemathesis/requirements.txt
if [[ "${1:-}" == --test ]] && { ! cmp -s "$PINS" .venv/requirements.txt || [[ ! -x .venv/bin/st ]]; }; then
  echo "setup: installing Schemathesis into .venv"
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: Schemathesis needs python3 3.11 or later" >&2
    exit 1
  fi
  # --clear: a half-made or older environment is made again from nothing.
  if ! python3 -m venv --clear .venv; then
    echo "setup: python3 -m venv failed (Debian and Ubuntu ship it as python3-venv)" >&2
    exit 1
  fi
  .venv/bin/pip install --quiet --disable-pip-version-check -r "$PINS"
  cp "$PINS" .venv/requirements.txt
fi
