// p50/p99 latency of each HTTP route over N sequential requests on loopback, against the
// Worker served by `wrangler dev` on a fresh local D1. Usage: node bench/latency.mjs [N]
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const N = Number(process.argv[2] ?? 1000);
const root = path.join(import.meta.dirname, "..");
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const state = mkdtempSync(path.join(tmpdir(), "d1sm-latency-"));
// At least 32 characters: the Worker refuses a shorter token.
const TOKEN = "latency-token-0123456789abcdefghij";
const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

const port = await new Promise((resolve) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});

execFileSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: root, env, stdio: "ignore" });
const dev = spawn(
  wrangler,
  ["dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state, "--var", `API_TOKEN:${TOKEN}`, "--log-level", "error"],
  { cwd: root, env, stdio: "ignore", detached: true },
);
const base = `http://127.0.0.1:${port}`;
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, "content-type": "application/json" };

try {
  for (let i = 0; i < 240; i++) {
    if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
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
    times.sort((a, b) => a - b);
    const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(2);
    console.log(`| ${name} | ${pct(50)} | ${pct(99)} | |`);
  }
} finally {
  process.kill(-dev.pid, "SIGTERM");
  rmSync(state, { recursive: true, force: true });
}
