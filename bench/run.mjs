// `npm run bench [-- --check]`: the same workload through this package, a plain-JS baseline
// and @auth/d1-adapter, and the same requests through a Hono app on our middleware and on
// hono-sessions, in one workerd (wrangler dev) with one local D1, in interleaved rounds
// after a discarded warm-up. Prints the table, writes BENCHMARKS.md, and with --check exits
// non-zero when a budget is broken. Ratios are what count: this machine is shared and
// noisy, so only numbers from the same run are compared.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { startDev } from "../scripts/dev-server.mjs";
import { writeBenchmarks } from "./benchmarks-md.mjs";
import { fmt, median, medianInterval, pairedRatios, percentile } from "./stats.mjs";

const check = process.argv.includes("--check");
// workerd's clock has 1 ms resolution: a batch of K ops times its mean to 1/K ms.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const K = 50; // ROUNDS * K = 2,000 of each op per implementation
const WARMUP_ROUNDS = 3;
const IMPLS = ["ours", "plain", "authjs"];
const OPS = ["create", "get", "save", "casSave", "patch", "renew", "rotate", "list", "delete", "revokeAll"];
// Auth.js has no rotation, listing or revoke-all; and its delete checks no expiry and
// reports nothing (one bare DELETE), which ours must do, so delete is not held to it.
const AUTHJS_OPS = new Set(["create", "get", "save", "renew", "delete"]);
const AUTHJS_BUDGET_OPS = new Set(["create", "get", "save", "renew"]);
// Per request through a Hono app: ours (the README's app) and hono-sessions.
const HONO_APPS = ["ours", "honoSessions"];
const REQUESTS = {
  anonymous: "anonymous visit (`GET /me`, no cookie)",
  me: "signed-in read (`GET /me`)",
  cart: "cart update (`POST /cart`, one item)",
};
const CANNED_OPS = ["create", "get", "save", "casSave", "patch", "renew", "rotate", "list", "delete", "revokeAll"];
const WRITERS = 50;
const PER_USER = 5;
// Our CPU per op over plain's, with D1 replaced by canned rows: the one budget a 100 µs
// slowdown cannot hide in, since a D1 round trip's own noise is larger than that.
const BUDGET = { vsPlain: 1.15, wasmGzipBytes: 150_000, cpuOverPlainUs: 5 };
// Canned runs (alternating k, so each implementation goes first in half of them).
const CANNED_RUNS = 10;
// Construction: batches timed alone (1 ms clock: a batch of k times its mean to 1/k ms), and
// the wasm instance's memory around CONSTRUCTED managers made and dropped.
const CONSTRUCT_BATCHES = 20;
const CONSTRUCT_SIZES = { ours: 2_000, eventTarget: 10_000, prepare: 100_000 };
const CONSTRUCTED = 20_000;
const CHURN_MB = 64;
const MAX_CHURN_ROUNDS = 12;

const root = path.join(import.meta.dirname, "..");
const benchWorker = path.join(import.meta.dirname, "worker");
const pkg = path.join(benchWorker, "node_modules/d1-session-manager");
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

/** `list` in round `n`'s order: each takes its turn first (the warm-up, n < 0, keeps the first). */
const turn = (list, n) => list.map((_, i) => list[(i + Math.max(n, 0)) % list.length]);

const state = mkdtempSync(path.join(os.tmpdir(), "d1sm-bench-"));
const dev = await startDev(wrangler, ["dev", "--local", "--ip", "127.0.0.1", "--persist-to", state, "--log-level", "error"], {
  cwd: benchWorker,
  env,
});
const base = dev.origin;

async function get(pathAndQuery, init) {
  const response = await fetch(base + pathAndQuery, init);
  if (!response.ok) throw new Error(`${pathAndQuery}: ${response.status} ${await response.text()}`);
  return response.json();
}

let exitCode = 0;
try {
  // The schema as the package's migrations leave it (0001's table is dropped by 0002).
  const migration = ["0002_hashed_tokens.sql", "0003_session_versions.sql"].map((file) => readFileSync(path.join(pkg, "migrations", file), "utf8")).join(";\n");
  await get("/setup", { method: "POST", body: migration });

  // Interleaved rounds: each round runs every implementation once, in a rotating order.
  const samples = Object.fromEntries(IMPLS.map((i) => [i, Object.fromEntries(OPS.map((o) => [o, { means: [], perOp: [] }]))]));
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
    const order = turn(IMPLS, round);
    const timings = await get(`/round?order=${order.join(",")}&k=${K}`);
    if (round < 0) continue; // warm-up, discarded
    for (const impl of IMPLS) {
      for (const op of OPS) {
        const t = timings[impl][op];
        if (!t) continue;
        samples[impl][op].means.push(t.total / t.perOp.length);
        samples[impl][op].perOp.push(...t.perOp);
      }
    }
  }
  const meters = Object.fromEntries(await Promise.all(IMPLS.map(async (i) => [i, await get(`/meter?impl=${i}&k=20`)])));
  // The same three requests through each Hono app, in rounds of K new browsers per app
  // (interleaved, warm-up discarded); then a metered round for the D1 cost of each.
  const requestMs = Object.fromEntries(HONO_APPS.map((a) => [a, Object.fromEntries(Object.keys(REQUESTS).map((r) => [r, []]))]));
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
    const timings = await get(`/requests?order=${turn(HONO_APPS, round).join(",")}&k=${K}`);
    if (round < 0) continue; // warm-up, discarded
    for (const a of HONO_APPS) for (const r of Object.keys(REQUESTS)) requestMs[a][r].push(timings[a][r].ms);
  }
  const requestMeters = await get(`/requests?order=${HONO_APPS.join(",")}&k=20&meter`);
  const honoSessionsVersion = JSON.parse(readFileSync(path.join(root, "node_modules/hono-sessions/package.json"), "utf8")).version;
  const overhead = await get("/overhead?k=2000");
  // Alternating k (even, odd) alternates which implementation goes first.
  const cannedRuns = async (hop) => {
    const runs = [];
    for (let run = 0; run < CANNED_RUNS; run++) runs.push(await get(`/canned?k=${1000 + (run % 2)}${hop ? "&hop" : ""}`));
    const medians = Object.fromEntries(["ours", "plain"].map((i) => [i, Object.fromEntries(CANNED_OPS.map((op) => [op, median(runs.map((r) => r[i][op]))]))]));
    // Ours minus plain run by run (each run measures both, interleaved), and its interval.
    medians.over = Object.fromEntries(CANNED_OPS.map((op) => [op, medianInterval(runs.map((r) => r.ours[op] - r.plain[op]))]));
    return medians;
  };
  const instant = await cannedRuns(false);
  const hopped = await cannedRuns(true);
  const instantiate = await get("/instantiate?k=200");
  const contentionRuns = [];
  for (let i = 0; i < 5; i++) contentionRuns.push(await get(`/contention?k=${WRITERS}`));
  const hashing = median(await Promise.all([0, 1, 2, 3, 4].map(() => get("/hash?k=2000").then((h) => h.webCryptoUs))));

  // Compilation cannot be timed inside workerd (it refuses run-time compilation); V8 is the same engine.
  const wasm = readFileSync(path.join(pkg, "js/pkg/d1_session_manager_bg.wasm"));
  const compileMs = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    await WebAssembly.compile(wasm);
    compileMs.push(performance.now() - t0);
  }
  const glue = ["js/pkg/d1_session_manager.js", "js/index.js"].map((f) => readFileSync(path.join(pkg, f)));
  const sizes = {
    wasmRaw: wasm.length,
    wasmGzip: gzipSync(wasm, { level: 9 }).length,
    glueRaw: glue.reduce((n, b) => n + b.length, 0),
    glueGzip: glue.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0),
  };

  // Scale: the same reads and writes with 1,000 and with 100,000 sessions in the table.
  const scale = {};
  for (const [label, target] of [
    ["1k", 1_000],
    ["100k", 100_000],
  ]) {
    scale[label] = {};
    for (const table of ["bench_ours", "bench_plain"]) {
      const { count } = await get(`/fill?table=${table}&k=0`);
      if (count < target) await get(`/fill?table=${table}&k=${target - count}`);
      const runs = [];
      for (let r = 0; r < 10; r++) runs.push(await get(`/scale?table=${table}&k=${K}`));
      scale[label][table] = { get: median(runs.map((r) => r.get)), save: median(runs.map((r) => r.save)) };
    }
  }
  await get("/fill?table=bench_ours&k=50000&expired");
  const purge = await get("/purge");

  // Construction, last so its garbage cannot touch the figures above. Memory first: 20,000
  // managers made and dropped, then rounds of allocation churn until GC has collected them
  // all (or MAX_CHURN_ROUNDS); then the time per construction, in interleaved batches.
  const constructed = await get(`/construct-many?k=${CONSTRUCTED}`);
  const churned = [];
  while (churned.length < MAX_CHURN_ROUNDS && (churned.at(-1)?.finalized ?? 0) < CONSTRUCTED) {
    churned.push(await get(`/churn?k=${CHURN_MB}`));
  }
  const kinds = Object.keys(CONSTRUCT_SIZES);
  const constructUs = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (let batch = -2; batch < CONSTRUCT_BATCHES; batch++) {
    const order = turn(kinds, batch);
    const sizes = kinds.map((kind) => `${kind}=${CONSTRUCT_SIZES[kind]}`).join("&");
    const us = await get(`/construct?order=${order.join(",")}&${sizes}`);
    if (batch < 0) continue; // warm-up, discarded
    for (const kind of kinds) constructUs[kind].push(us[kind]);
  }
  const construction = Object.fromEntries(
    kinds.map((kind) => [kind, { median: median(constructUs[kind]), min: Math.min(...constructUs[kind]), max: Math.max(...constructUs[kind]) }]),
  );

  // The table.
  const has = (impl, op) => impl !== "authjs" || AUTHJS_OPS.has(op);
  const rows = OPS.map((op) => {
    const m = Object.fromEntries(IMPLS.filter((i) => has(i, op)).map((i) => [i, median(samples[i][op].means)]));
    const p99 = Object.fromEntries(IMPLS.filter((i) => has(i, op)).map((i) => [i, percentile(samples[i][op].perOp, 99)]));
    return {
      op,
      m,
      p99,
      throughput: 1000 / m.ours,
      vsPlain: m.ours / m.plain,
      vsAuthjs: m.authjs === undefined ? undefined : m.ours / m.authjs,
      // Round by round (the implementations take turns within a round), with 95% intervals.
      vsPlainInterval: medianInterval(pairedRatios(samples.ours[op].means, samples.plain[op].means)),
      vsAuthjsInterval: m.authjs === undefined ? undefined : medianInterval(pairedRatios(samples.ours[op].means, samples.authjs[op].means)),
      meter: Object.fromEntries(IMPLS.filter((i) => has(i, op)).map((i) => [i, meters[i][op]])),
    };
  });

  const requestRows = Object.entries(REQUESTS).map(([request, label]) => {
    const ms = Object.fromEntries(HONO_APPS.map((a) => [a, median(requestMs[a][request])]));
    const meter = Object.fromEntries(HONO_APPS.map((a) => [a, requestMeters[a][request]]));
    const interval = medianInterval(pairedRatios(requestMs.ours[request], requestMs.honoSessions[request]));
    return { request, label, ms, meter, ratio: ms.ours / ms.honoSessions, interval };
  });

  const lines = [];
  const out = (s = "") => lines.push(s);
  out(
    `Per operation: the median of ${ROUNDS} batches of ${K} (${ROUNDS * K} ops), p99 of the single ops (1 ms resolution: workerd's clock), in ms. casSave is a save with \`ifVersion\` (the right one); patch merges one key. list and revokeAll run on users with ${PER_USER} live sessions. Auth.js has no casSave, patch, rotate, list or revokeAll (–).`,
  );
  out();
  out("| op | ours median | ours p99 | plain median | plain p99 | Auth.js median | Auth.js p99 | ours ops/s | ours / plain | ours / Auth.js |");
  out("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const opt = (x, f) => (x === undefined ? "–" : f(x));
  for (const r of rows) {
    out(
      `| ${r.op} | ${fmt(r.m.ours)} | ${r.p99.ours} | ${fmt(r.m.plain)} | ${r.p99.plain} | ${opt(r.m.authjs, fmt)} | ${opt(r.p99.authjs, String)} | ${fmt(r.throughput, 0)} | ${fmt(r.vsPlain)}x | ${opt(r.vsAuthjs, (x) => `${fmt(x)}x`)} |`,
    );
  }
  out();
  out("D1 round trips / rows read / rows written per operation (from D1's `meta`; revokeAll per user of 5 sessions):");
  out();
  out("| op | ours | plain | Auth.js |");
  out("| --- | --- | --- | --- |");
  const m = (x) => (x === undefined ? "–" : `${fmt(x.trips, 1)} / ${fmt(x.rowsRead, 1)} / ${fmt(x.rowsWritten, 1)}`);
  for (const r of rows) out(`| ${r.op} | ${m(r.meter.ours)} | ${m(r.meter.plain)} | ${m(r.meter.authjs)} |`);
  out();
  out(
    `Per request through a Hono app (\`app.request\` in the same workerd, on the same D1). **Ours** is the README's app, \`sessions((c) => new SessionManager(db, { timeout: 3600 }))\` (with a \`tableName\` of its own: Auth.js has \`sessions\` here); **hono-sessions** ${honoSessionsVersion} is the same app on its \`sessionMiddleware\` with a D1 \`Store\` of one statement per method on \`hono_sessions (id, data, expires_at)\`, an encryption key (the cookie carries the sealed id), \`expireAfterSeconds: 3600\` and its rolling expiry (\`autoExtendExpiration\`, the default). Both behind \`hono/csrf\`. Each browser keeps a cookie jar through an anonymous visit, a sign-in (rotating; not reported), a signed-in read and a cart update. Time: ms per request, the median of ${ROUNDS} batches of ${K} browsers; D1 round trips / rows read / rows written per request, from a metered round of 20 browsers.`,
  );
  out();
  out("| request | ours | hono-sessions | ours median | hono-sessions median | ours / hono-sessions |");
  out("| --- | --- | --- | ---: | ---: | ---: |");
  for (const r of requestRows) {
    out(`| ${r.label} | ${m(r.meter.ours)} | ${m(r.meter.honoSessions)} | ${fmt(r.ms.ours)} | ${fmt(r.ms.honoSessions)} | ${fmt(r.ratio)}x |`);
  }
  out();
  out("Scale (ms per op, median of 10 batches of 20):");
  out();
  out("| sessions in table | ours get | ours save | plain get | plain save |");
  out("| --- | ---: | ---: | ---: | ---: |");
  for (const [label, s] of Object.entries(scale)) {
    out(`| ${label} | ${fmt(s.bench_ours.get)} | ${fmt(s.bench_ours.save)} | ${fmt(s.bench_plain.get)} | ${fmt(s.bench_plain.save)} |`);
  }
  out();
  out(`Cron purge of ${purge.removed} expired rows (batches of 1,000): ${fmt(purge.ms / 1000, 2)} s.`);
  out();
  out(
    `Size: .wasm ${sizes.wasmRaw} bytes raw, ${sizes.wasmGzip} gzip -9; JS glue (wasm-bindgen output + js/index.js) ${sizes.glueRaw} raw, ${sizes.glueGzip} gzip -9.`,
  );
  out(
    `Start-up: compiling the .wasm takes ${fmt(median(compileMs))} ms (median of 20, Node ${process.version} V8); instantiating the compiled module in workerd ${fmt(instantiate.ms, 3)} ms (mean of 200).`,
  );
  out(
    `Fixed cost of our path with no D1 call (mean of 2,000): a call through the JS wrapper and the wasm boundary ${fmt(overhead.call * 1000, 1)} µs; the same with a 1 KB object to stringify, copy and check ${fmt(overhead.saveWithData * 1000, 1)} µs (a JSON stringify+parse of it alone in JS: ${fmt(overhead.jsJsonRoundTrip * 1000, 1)} µs).`,
  );
  out();
  const cm = (f) => median(contentionRuns.map(f));
  out(
    `Contention: ${WRITERS} writers increment one counter at once (median of ${contentionRuns.length} runs). \`updateSessionData\` (compare-and-swap, retried, \`retries: ${WRITERS}\`): ${fmt(
      cm((r) => r.cas.ms),
      0,
    )} ms wall, ${fmt(
      cm((r) => r.cas.attemptsPerSuccess),
      1,
    )} attempts per success, final count ${cm((r) => r.cas.final)} of ${WRITERS} (every run: ${contentionRuns.map((r) => r.cas.final).join(", ")}). Plain replace (read, then save): ${fmt(
      cm((r) => r.replace.ms),
      0,
    )} ms wall, ${cm((r) => r.replace.lost)} of ${WRITERS} increments lost (every run: ${contentionRuns.map((r) => r.replace.lost).join(", ")}).`,
  );
  out();
  out(
    `Hashing: plain hashes each secret with WebCrypto (\`crypto.subtle.digest\`, awaited), ${fmt(hashing, 1)} µs per SHA-256 of a 43-character secret (median of 5 runs of 2,000). Ours hashes in wasm (RustCrypto's sha2), synchronously, inside the CPU figures below.`,
  );
  out();
  out(
    `Cost per op with D1 replaced by canned rows (µs, median of ${CANNED_RUNS} runs of 1,000; list and revokeAll answer one row): at once (CPU only), ours over plain run by run with its 95% interval, and after one real I/O hop each (identical for both):`,
  );
  out();
  out("| op | ours, instant | plain, instant | ours − plain, instant (95%) | ours, one hop | plain, one hop | ours − plain, one hop |");
  out("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const op of CANNED_OPS) {
    out(
      `| ${op} | ${fmt(instant.ours[op], 1)} | ${fmt(instant.plain[op], 1)} | ${fmt(instant.over[op].median, 1)} (${fmt(instant.over[op].low, 1)}–${fmt(instant.over[op].high, 1)}) | ${fmt(hopped.ours[op], 0)} | ${fmt(hopped.plain[op], 0)} | ${fmt(hopped.ours[op] - hopped.plain[op], 0)} |`,
    );
  }
  out();
  const c = (kind, digits) => {
    const { median: m, min, max } = construction[kind];
    return `${fmt(m, digits)} (${fmt(min, digits)}–${fmt(max, digits)}, batches of ${CONSTRUCT_SIZES[kind].toLocaleString("en")})`;
  };
  out(
    `Construction, µs each, median (min–max) of ${CONSTRUCT_BATCHES} batches: \`new SessionManager(env.DB, { timeout: 3600 })\` until its \`ready\` settles ${c("ours", 1)}; for scale, an empty \`EventTarget\` subclass ${c("eventTarget", 2)} and \`env.DB.prepare(sql)\` ${c("prepare", 3)}.`,
  );
  out();
  const last = churned.at(-1) ?? constructed.after;
  const finalized = churned.at(-1)?.finalized ?? 0;
  const per = (field) => {
    const [a, b] = [constructed.before[field], constructed.after[field]];
    return a === null || b === null ? "n/a" : fmt((b - a) / CONSTRUCTED, 1);
  };
  const rounds = `${churned.length} round${churned.length === 1 ? "" : "s"}`;
  out(
    `Memory of the package's wasm instance around ${CONSTRUCTED.toLocaleString("en")} managers constructed and dropped (in batches of 1,000, each started): ${per("memoryBytes")} bytes of linear memory and ${per("tableInUse")} externref table slots per manager until GC collects it. Then rounds of allocation churn (${CHURN_MB} MB of JS objects and some runtime objects each) until GC had collected them all, at most ${MAX_CHURN_ROUNDS}: ${rounds}, ${finalized.toLocaleString("en")} of ${CONSTRUCTED.toLocaleString("en")} collected. Linear memory and the table never shrink; freed memory and table slots are reused.${constructed.sameInstance ? "" : " Nor did it grow while 1,000 were kept: a manager holds nothing in wasm. (With the earlier core, which kept one object per manager there, this same reading grew by about 12 slots and 265 bytes per manager, which shows it reads the instance the managers use.)"}`,
  );
  out();
  out("| | linear memory, bytes | externref table length | table slots in use |");
  out("| --- | ---: | ---: | ---: |");
  const na = (x) => (x === null || x === undefined ? "n/a" : String(x));
  for (const [label, r] of [
    ["before", constructed.before],
    [`after ${CONSTRUCTED.toLocaleString("en")} constructions`, constructed.after],
    [`after the churn`, last],
  ]) {
    out(`| ${label} | ${na(r.memoryBytes)} | ${na(r.tableLength)} | ${na(r.tableInUse)} |`);
  }
  const unread = [constructed.before, constructed.after, last].find((r) => r.error);
  if (unread) out(`\n(The wasm instance could not be read: ${unread.error}.)`);
  const report = lines.join("\n");
  console.log(report);

  // Budgets.
  const broken = [];
  for (const r of rows) {
    const { low, high } = r.vsPlainInterval;
    if (low > BUDGET.vsPlain) broken.push(`${r.op}: ours/plain ${fmt(low)}–${fmt(high)}x (95%) > ${BUDGET.vsPlain}x`);
    const authjs = r.vsAuthjsInterval;
    if (AUTHJS_BUDGET_OPS.has(r.op) && authjs.low > 1) broken.push(`${r.op}: ours/Auth.js ${fmt(authjs.low)}–${fmt(authjs.high)}x (95%) > 1x`);
  }
  for (const op of CANNED_OPS) {
    const { low, high } = instant.over[op];
    if (low > BUDGET.cpuOverPlainUs) broken.push(`${op}: CPU ${fmt(low, 1)}–${fmt(high, 1)} µs (95%) over plain > ${BUDGET.cpuOverPlainUs} µs`);
  }
  if (sizes.wasmGzip > BUDGET.wasmGzipBytes) broken.push(`.wasm gzip ${sizes.wasmGzip} > ${BUDGET.wasmGzipBytes} bytes`);
  if (meters.ours.get.rowsWritten !== 0) broken.push(`a read with no renewal wrote ${meters.ours.get.rowsWritten} rows`);
  for (const {
    request,
    meter: { ours: o, honoSessions: h },
    interval,
  } of requestRows) {
    if (o.trips > h.trips) broken.push(`${request}: ${o.trips} D1 round trips > hono-sessions' ${h.trips}`);
    if (o.rowsWritten > h.rowsWritten) broken.push(`${request}: ${o.rowsWritten} rows written > hono-sessions' ${h.rowsWritten}`);
    if (interval.low > 1) broken.push(`${request}: ours/hono-sessions ${fmt(interval.low)}–${fmt(interval.high)}x (95%) > 1x`);
  }

  const cpu = os.cpus();
  const doc = [
    "# Benchmarks",
    "",
    `Run ${new Date().toISOString().slice(0, 10)} on ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}; workerd through wrangler dev with a local D1. Written by \`npm run bench\`; absolute times vary run to run on this shared machine, the ratios are the result.`,
    "",
    "Implementations: **ours** is this package as a user's Worker imports it; **plain** is the same SQL written by hand against `env.DB`, with its own token handling (a secret from `crypto.getRandomValues`, its SHA-256 through WebCrypto), the floor; **Auth.js** is `@auth/d1-adapter` (`createSession`, `getSessionAndUser`, `updateSession` for both save and renew since it stores no data, `deleteSession`). Auth.js stores its session token itself, not a hash of it, and has no rotation, listing or revoke-all.",
    "",
    report,
    "",
    `Budgets (\`npm run bench -- --check\`), each broken only when its whole 95% interval (bootstrap of the median over paired rounds) is past it: ≤ ${BUDGET.vsPlain}x plain per op; CPU per op (canned rows) ≤ ${BUDGET.cpuOverPlainUs} µs over plain; create, get, save and renew no slower than Auth.js (not delete: Auth.js's delete is one bare \`DELETE ... WHERE sessionToken = ?\` that checks no expiry and reports nothing, so it does less work than ours must); .wasm ≤ ${BUDGET.wasmGzipBytes} bytes gzip -9; a read with no renewal writes 0 rows; through Hono, each of the three requests makes no more D1 round trips, writes no more rows and takes no longer (median) than with hono-sessions. This run: ${broken.length ? `BROKEN: ${broken.join("; ")}` : "all met"}.`,
    "",
  ].join("\n");
  writeBenchmarks({ core: doc });
  console.log(broken.length ? `\nBudgets broken:\n- ${broken.join("\n- ")}` : "\nAll budgets met.");
  if (check && broken.length) exitCode = 1;
} catch (error) {
  console.error(error);
  exitCode = 2;
} finally {
  dev.stop();
  rmSync(state, { recursive: true, force: true });
}
process.exit(exitCode);
