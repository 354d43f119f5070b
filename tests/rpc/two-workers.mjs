// The README's two-Worker commands, as written: from the project's folder, and from a copy of
// the caller in a folder of its own outside the project. wrangler builds the session Worker
// (its [build] command finds the project from the config path it was given, wherever wrangler
// was started), serves both, and the caller's RPC calls reach the session Worker's local D1.
// Run by `node --test`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { startDev } from "../../scripts/dev-server.mjs";

const root = path.join(import.meta.dirname, "../..");
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const readme = readFileSync(path.join(root, "README.md"), "utf8");

/** The arguments of a wrangler command the README shows, with `replace`'s changes made. */
function shown(command, replace = []) {
  assert.ok(readme.includes(command), `the README shows ${command}`);
  const words = replace.reduce((text, [from, to]) => text.replaceAll(from, to), command).split(" ");
  assert.deepEqual(words.slice(0, 2), ["npx", "wrangler"]);
  return words.slice(2);
}

/** Applies the migrations and serves both Workers in `cwd`, then checks the caller's answer. */
async function serveBoth(cwd, migrate, dev) {
  execFileSync(wrangler, migrate, { cwd, env, stdio: "ignore" });
  const served = await startDev(wrangler, [...dev, "--ip", "127.0.0.1"], { cwd, env });
  try {
    const body = await (await fetch(`${served.origin}/`)).json();
    assert.deepEqual(body, {
      data: { cart: [7] },
      expiresIsDate: true,
      refused: "invalid_argument: userId must be a string or null, got a value of type number",
    });
  } finally {
    served.stop();
  }
}

test("the README's two-Worker command serves the RPC example from the project's folder", async () => {
  // A local D1 of the test's own, not the one `npm run dev` keeps in .wrangler/state.
  const state = mkdtempSync(path.join(os.tmpdir(), "d1sm-rpc-"));
  try {
    const migrate = shown("npx wrangler d1 migrations apply DB --local");
    const dev = shown("npx wrangler dev -c examples/rpc-caller/wrangler.toml -c wrangler.toml --persist-to .wrangler/state", [[".wrangler/state", state]]);
    await serveBoth(root, [...migrate, "--persist-to", state], dev);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});

test("a caller in a folder of its own, outside the project, starts the session Worker beside it", async () => {
  const away = mkdtempSync(path.join(os.tmpdir(), "d1sm-caller-"));
  try {
    const caller = path.join(away, "rpc-caller");
    cpSync(path.join(root, "examples/rpc-caller"), caller, { recursive: true });
    assert.ok(path.relative(root, caller).startsWith(".."), "the caller's folder is outside the project");
    // The README's commands, with the path from the caller's folder to this project.
    const project = [["../d1-session-manager/", `${path.relative(caller, root)}/`]];
    const migrate = shown("npx wrangler d1 migrations apply DB --local -c ../d1-session-manager/wrangler.toml --persist-to .wrangler/state", project);
    const dev = shown("npx wrangler dev -c wrangler.toml -c ../d1-session-manager/wrangler.toml", project);
    await serveBoth(caller, migrate, dev);
  } finally {
    rmSync(away, { recursive: true, force: true });
  }
});
