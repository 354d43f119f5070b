// p50/p99 latency of each HTTP route over N sequential requests on loopback, against the
// Worker served by `wrangler dev` on a fresh local D1. Usage: node bench/latency.mjs [N]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startDev } from "../scripts/dev-server.mjs";
import { percentile } from "./stats.mjs";

const N = Number(process.argv[2] ?? 1000);
const root = path.join(import.meta.dirname, "..");
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const state = mkdtempSync(path.join(tmpdir(), "d1sm-latency-"));
// At least 32 characters: the Worker refuses a shorter token.
const TOKEN = "latency-token-0123456789abcdefghij";
const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

execFileSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: root, env, stdio: "ignore" });
const dev = await startDev(wrangler, ["dev", "--local", "--ip", "127.0.0.1", "--persist-to", state, "--var", `API_TOKEN:${TOKEN}`, "--log-level", "error"], {
  cwd: root,
  env,
});
const base = dev.origin;
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, "content-type": "application/json" };

try {
  const kb = JSON.stringify({ blob: "x".repeat(1000) });
  // Each session has its own user, so a user's list holds one session, as most do.
  const sessions = [];
  const holding = (i, headers = auth) => ({ ...headers, "session-token": sessions[i].token });
  const routes = [
    ["GET /health", () => fetch(`${base}/health`)],
    [
      "POST /sessions",
      (i) => fetch(`${base}/sessions`, { method: "POST", headers: json, body: JSON.stringify({ userId: `u${i}`, data: { a: 1 } }) }),
      async (r) => sessions.push(await r.json()),
    ],
    ["GET /session", (i) => fetch(`${base}/session`, { headers: holding(i) })],
    ["PUT /session/data (1 KB)", (i) => fetch(`${base}/session/data`, { method: "PUT", headers: holding(i, json), body: kb })],
    ["POST /session/renew", (i) => fetch(`${base}/session/renew`, { method: "POST", headers: holding(i) })],
    [
      "POST /session/rotate",
      (i) => fetch(`${base}/session/rotate`, { method: "POST", headers: holding(i) }),
      async (r, i) => (sessions[i].token = (await r.json()).token),
    ],
    ["GET /sessions/{id}", (i) => fetch(`${base}/sessions/${sessions[i].id}`, { headers: auth })],
    ["GET /users/{userId}/sessions", (i) => fetch(`${base}/users/u${i}/sessions`, { headers: auth })],
    ["DELETE /session", (i) => fetch(`${base}/session`, { method: "DELETE", headers: holding(i) })],
  ];
  // Warm-up, discarded.
  for (let i = 0; i < 50; i++) await (await fetch(`${base}/health`)).arrayBuffer();
  console.log(`| route | p50 ms | p99 ms | (${N} sequential requests, loopback, wrangler dev) |`);
  console.log("| --- | ---: | ---: | --- |");
  for (const [name, send, after] of routes) {
    const times = [];
    for (let i = 0; i < N; i++) {
      const start = performance.now();
      const response = await send(i);
      if (after) await after(response, i);
      else await response.arrayBuffer();
      times.push(performance.now() - start);
      if (response.status >= 400) throw new Error(`${name}: ${response.status}`);
    }
    console.log(`| ${name} | ${percentile(times, 50).toFixed(2)} | ${percentile(times, 99).toFixed(2)} | |`);
  }
} finally {
  dev.stop();
  rmSync(state, { recursive: true, force: true });
}
