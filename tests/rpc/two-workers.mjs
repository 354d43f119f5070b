// The README's two-Worker command, as written, from the caller's own folder: wrangler builds
// the session Worker (its [build] command finds the project from there), serves both, and
// the caller's RPC calls reach the session Worker's local D1. Run by `node --test`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { startDev } from "../../scripts/dev-server.mjs";

const root = path.join(import.meta.dirname, "../..");
const caller = path.join(root, "examples/rpc-caller");
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

test("wrangler dev -c wrangler.toml -c ../../wrangler.toml serves the RPC example from the caller's folder", async () => {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const command = "npx wrangler dev -c examples/rpc-caller/wrangler.toml -c wrangler.toml";
  assert.ok(readme.includes(command), `the README shows ${command}`);
  const state = mkdtempSync(path.join(os.tmpdir(), "d1sm-rpc-"));
  try {
    execFileSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: root, env, stdio: "ignore" });
    const dev = await startDev(wrangler, ["dev", "-c", "wrangler.toml", "-c", "../../wrangler.toml", "--ip", "127.0.0.1", "--persist-to", state], {
      cwd: caller,
      env,
    });
    try {
      const body = await (await fetch(`${dev.origin}/`)).json();
      assert.deepEqual(body, {
        data: { cart: [7] },
        expiresIsDate: true,
        refused: "invalid_argument: userId must be a string or null, got a value of type number",
      });
    } finally {
      dev.stop();
    }
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
