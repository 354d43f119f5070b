#!/usr/bin/env bash
# The contract run: Schemathesis generates requests from openapi.yaml and sends them to the
# Worker under `wrangler dev`, with a fresh local D1 and every check on. It fails on any
# failure, and when fewer than MIN_CASES cases ran or an operation went untested, so a
# narrower run cannot pass for a full one. Needs scripts/setup.sh --test (the .venv) and
# scripts/build.sh --worker (which wrangler runs again on start).
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false CI=true

# Cases per operation and phase: about 2,000 in all, in about a minute here. One worker:
# cases then never race each other (one revoking the session another is reading).
MAX_EXAMPLES=100
MIN_CASES=1000
TIME_LIMIT=600

token=$(sed -n 's/^API_TOKEN=//p' .dev.vars.example)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)
server=""
cleanup() {
  # wrangler runs workerd as a child: end the whole process group it leads.
  if [[ -n "$server" ]]; then kill -- "-$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "schemathesis: wrangler dev on 127.0.0.1:$port, local D1 in $work"
wrangler d1 migrations apply DB --local --persist-to "$work/d1" >"$work/wrangler.log" 2>&1
# --var wins over a developer's own .dev.vars, so the token below is the one the Worker has.
setsid wrangler dev --local --ip 127.0.0.1 --port "$port" --persist-to "$work/d1" \
  --var "API_TOKEN:$token" >>"$work/wrangler.log" 2>&1 &
server=$!
for ((i = 0; ; i++)); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break
  if ((i >= 120)) || ! kill -0 "$server" 2>/dev/null; then
    echo "schemathesis: the Worker did not come up; wrangler's log:" >&2
    cat "$work/wrangler.log" >&2
    exit 1
  fi
  sleep 0.5
done

# tests/http/schemathesis/ holds what the command line cannot say: the hooks (one check's
# blind spot, explained there) and the statuses that count as accepting valid input.
status=0
timeout "$TIME_LIMIT" .venv/bin/st --config-file tests/http/schemathesis/config.toml run openapi.yaml \
  --url "http://127.0.0.1:$port" --header "Authorization: Bearer $token" \
  --checks all --max-examples "$MAX_EXAMPLES" --workers 1 \
  --report json --report-json-path "$work/report.json" || status=$?
if ((status == 124)); then
  echo "schemathesis: stopped after ${TIME_LIMIT}s" >&2
fi
if ((status != 0)); then exit "$status"; fi

python3 - "$work/report.json" "$MIN_CASES" <<'EOF'
import json
import sys

report = json.load(open(sys.argv[1]))
cases, operations = report["test_cases"]["generated"], report["operations"]
print(f"schemathesis: {cases} cases, {operations['tested']} of {operations['total']} operations, "
      f"{report['running_time']:.0f} s, seed {report['seed']}")
if cases < int(sys.argv[2]) or operations["tested"] != operations["total"]:
    sys.exit(f"schemathesis: expected at least {sys.argv[2]} cases over every operation")
EOF
