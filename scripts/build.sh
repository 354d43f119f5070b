#!/usr/bin/env bash
# Builds the wasm core and its JS glue into js/pkg/ (the npm package), with --worker the
# HTTP Worker's build into worker/pkg/, and with --store-suite the store suite's test build.
# Needs scripts/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."

features=""
out="js/pkg"
case "${1:-}" in
  --worker) features="--features http" out="worker/pkg" ;;
  # Test-only: the store suite over D1, run by tests/store/ (never packed or deployed).
  --store-suite) features="--features store-suite" out="target/store-suite/pkg" ;;
esac

# shellcheck disable=SC2086
cargo build --quiet --target wasm32-unknown-unknown --release $features
# Start clean: everything in js/pkg/ is packed, so no file of an earlier build may linger.
rm -rf "$out"
mkdir -p "$out"
# --experimental-reset-state-function: the glue exports __wbg_reset_state, which makes a fresh
# instance after a trap (a panic is `unreachable` with panic=abort and may leave state borrowed),
# as workers-rs' shim does. Each surface's JS entry calls it when a call throws a RuntimeError.
wasm-bindgen --target web --experimental-reset-state-function \
  --out-dir "$out" --out-name d1_session_manager \
  target/wasm32-unknown-unknown/release/d1_session_manager.wasm
# -Oz: this crate is I/O bound (one D1 round trip per call), so size beats speed here.
node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-multivalue --enable-mutable-globals \
  "$out/d1_session_manager_bg.wasm" -o "$out/d1_session_manager_bg.wasm"
