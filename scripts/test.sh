#!/usr/bin/env bash
# Everything `npm test` runs, from a fresh clone: set-up, lints, the Rust core's native
# tests, then the package packed, installed into a separate Worker and tested in workerd,
# then the Worker's HTTP suite and its contract (openapi.yaml) checked three ways.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false CI="${CI:-true}"

bash scripts/setup.sh --test

echo "== lint"
# JS and TS: Biome's formatter and linter (biome.json); `npx biome check --write .` fixes.
biome ci .
cargo fmt --check
cargo clippy --quiet --all-targets -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown --release -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown --release --features http -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown --release --features store-suite -- -D warnings

echo "== rust core (native)"
cargo test --quiet

echo "== the store suite on the D1 store, in workerd (natively it ran on the memory store above)"
bash scripts/build.sh --store-suite
vitest run --config tests/store/vitest.config.js

echo "== npm package: pack, install into a separate Worker, test in workerd"
bash scripts/pack.sh
# js/*.js type-checked as JavaScript under the Workers types, against their declarations.
tsc -p js/tsconfig.json
(cd tests/consumer && rm -rf node_modules && npm install --no-package-lock --no-audit --no-fund --loglevel=error)
# The hand-written types, as the installed package exposes them to a TypeScript user.
tsc -p tests/consumer/tsconfig.json
# The same with @cloudflare/workers-types as the only types and no DOM library, as a Worker
# project is set up.
tsc -p tests/consumer/tsconfig.workers.json
vitest run --config tests/consumer/vitest.config.js
node --test tests/consumer/smoke.mjs tests/consumer/cli.mjs tests/consumer/newproject.mjs

echo "== in a browser: the Hono shop example in headless Chromium, over the packed package"
node --test tests/browser/shop.mjs

echo "== the Worker: HTTP API in workerd, and its contract"
# Types made from openapi.yaml at each run (never committed, so never stale), and the typed
# client compiled against them; the HTTP suite then runs that client against the Worker.
openapi-typescript openapi.yaml --output tests/http/client/openapi.d.ts
tsc -p tests/http/client/tsconfig.json
bash scripts/build.sh --worker
vitest run --config tests/http/vitest.config.js
bash scripts/schemathesis.sh
# Bodies the Worker does not take, under wrangler dev: no 5xx, no broken connection.
node --test tests/http/bodies.mjs

echo "== the Worker's RPC service: a caller Worker bound to it, in workerd"
vitest run --config tests/rpc/vitest.config.js
node --test tests/rpc/two-workers.mjs
