#!/usr/bin/env bash
# `npm run dev`: set up, apply the migrations to the local D1 (.wrangler/state), and serve
# the API on http://127.0.0.1:8787 with the token from .dev.vars. No Cloudflare account.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false

bash scripts/setup.sh
[[ -f .dev.vars ]] || cp .dev.vars.example .dev.vars
CI=true wrangler d1 migrations apply DB --local
echo "API token for local requests: $(sed -n 's/^API_TOKEN=//p' .dev.vars)"
exec wrangler dev --local --ip 127.0.0.1 --port "${PORT:-8787}"
