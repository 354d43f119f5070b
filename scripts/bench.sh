#!/usr/bin/env bash
# `npm run bench [-- --check]`: packs the package, installs it into bench/worker as a user's
# Worker would, and runs bench/run.mjs against it; then builds the HTTP Worker and runs
# bench/http.mjs, our Worker against a plain-JS one over HTTP. Both always run; either one
# failing (or with --check breaking a budget) fails the command.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false CI="${CI:-true}"

bash scripts/setup.sh
bash scripts/pack.sh
(cd bench/worker && rm -rf node_modules && npm install --no-package-lock --no-audit --no-fund --loglevel=error)
# The compiled module, imported by the bench Worker to time instantiation.
cp bench/worker/node_modules/d1-session-manager/js/pkg/d1_session_manager_bg.wasm bench/worker/src/core.wasm
# Every part runs; the script fails if any part did.
status=0
node bench/run.mjs "$@" || status=$?
# The Worker over HTTP against a plain-JS Worker.
bash scripts/build.sh --worker
node bench/http.mjs "$@" || status=$?
# At scale: a million sessions on one database against four shards.
(cd bench/scale && rm -rf node_modules && npm install --no-package-lock --no-audit --no-fund --loglevel=error)
node bench/scale.mjs || status=$?
exit "$status"
