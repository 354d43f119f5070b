// `node bench/scale.mjs` (run by `npm run bench`): the package at scale, in workerd with
// local D1. One million sessions on one database against the same million spread over four
// shards (rows made inside SQLite, in batches), and a database of a thousand as the
// baseline: per operation, the median time over interleaved rounds, so that any cost of
// size or of spreading shows as a ratio; the purge's time per shard; and the bytes one
// session takes on disk by the size of its data. Prints the table, and writes it to its
// section of BENCHMARKS.md.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startDev } from "../scripts/dev-server.mjs";
import { writeBenchmarks } from "./benchmarks-md.mjs";
import { median } from "./stats.mjs";

const root = path.join(import.meta.dirname, "..");
const here = path.join(import.meta.dirname, "scale");
const wrangler = path.join(root, "node_modules/.bin/wrangler");
const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const SESSIONS = Number(process.env.SCALE_SESSIONS ?? 1_000_000);
const SMALL = 1_000;
const BATCH = 50_000;
const ROUNDS = Number(process.env.SCALE_ROUNDS ?? 10);
const K = 50;
const OPS = ["get", "patch", "create", "list"];
const LAYOUTS = ["small", "one", "four"];
// Data sizes (bytes of JSON) whose cost on disk is measured.
const PAYLOADS = [100, 500, 900, 1000, 2000, 4000];

const shuffled = (xs) =>
  xs
    .map((x) => [Math.random(), x])
    .sort((a, b) => a[0] - b[0])
    .map(([, x]) => x);

/** Bytes per session on disk by data size: ours, a rowid table's and an integer-keyed one's (bench/storage.py). */
function bytesPerSession() {
  const out = execFileSync("python3", [path.join(import.meta.dirname, "storage.py"), ...PAYLOADS.map(String)], { encoding: "utf8" });
  return JSON.parse(out);
}

const state = mkdtempSync(path.join(os.tmpdir(), "d1sm-scale-"));
const started = Date.now();
try {
  for (const binding of ["SMALL", "ONE", "S0", "S1", "S2", "S3"]) {
    execFileSync(wrangler, ["d1", "migrations", "apply", binding, "--local", "--persist-to", state], { cwd: here, env, stdio: "ignore" });
  }
  const dev = await startDev(wrangler, ["dev", "--local", "--ip", "127.0.0.1", "--persist-to", state, "--log-level", "error"], { cwd: here, env });
  const get = async (pathname) => {
    const response = await fetch(`${dev.origin}${pathname}`);
    if (!response.ok) throw new Error(`${pathname}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  try {
    const fillStart = Date.now();
    const fill = async (layout, shard, n) => {
      for (let from = 0; from < n; from += BATCH) await get(`/fill?layout=${layout}&shard=${shard}&from=${from}&n=${Math.min(BATCH, n - from)}`);
    };
    await fill("small", 0, SMALL);
    await fill("one", 0, SESSIONS);
    for (let shard = 0; shard < 4; shard++) await fill("four", shard, SESSIONS / 4);
    const fillSeconds = (Date.now() - fillStart) / 1000;
    const counts = Object.fromEntries(await Promise.all(LAYOUTS.map(async (l) => [l, (await get(`/count?layout=${l}`)).counts])));

    // Warm-up, discarded: the first batch on each layout also draws its pool of sessions.
    for (const op of OPS) for (const layout of LAYOUTS) await get(`/op?layout=${layout}&op=${op}&k=${K}`);
    const times = Object.fromEntries(LAYOUTS.map((l) => [l, Object.fromEntries(OPS.map((op) => [op, []]))]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const op of OPS) {
        for (const layout of shuffled(LAYOUTS)) times[layout][op].push((await get(`/op?layout=${layout}&op=${op}&k=${K}`)).ms);
      }
    }
    const purge = Object.fromEntries(LAYOUTS.filter((l) => l !== "small").map((l) => [l, []]));
    for (let round = 0; round < 3; round++) {
      for (const layout of Object.keys(purge)) purge[layout].push(await get(`/purge?layout=${layout}&n=2000&limit=1000`));
    }

    const perSession = bytesPerSession();
    const millions = `${(SESSIONS / 1e6).toLocaleString("en")} M`;
    const ms = (x) => x.toFixed(2);
    const rows = OPS.map((op) => {
      const [small, one, four] = LAYOUTS.map((l) => median(times[l][op]));
      return `| ${op} | ${ms(small)} | ${ms(one)} | ${ms(four)} | ${(one / small).toFixed(2)} | ${(four / one).toFixed(2)} |`;
    });
    const purgeRow = (layout, shards) => {
      const t = median(purge[layout].map((p) => p.ms));
      const removed = median(purge[layout].map((p) => p.removed));
      return `| ${layout === "one" ? "1 database" : "4 shards, at once"} | ${removed} | ${t.toFixed(0)} | ${(t / shards).toFixed(1)} |`;
    };
    const table = [
      `Sessions: ${SESSIONS.toLocaleString("en")} on one database (${counts.one[0].toLocaleString("en")} rows) against the same number over four shards (${counts.four.map((n) => n.toLocaleString("en")).join(" / ")} rows), and ${counts.small[0].toLocaleString("en")} on a small database; filled in ${fillSeconds.toFixed(0)} s. Median ms per operation over ${ROUNDS} interleaved rounds of ${K}, in workerd with local D1 (each operation is the package's own call; \`list\` lists a user's 5 sessions, which lie on different shards).`,
      "",
      `| op | ${SMALL.toLocaleString("en")} sessions | ${millions}, one database | ${millions}, four shards | one database / small | four shards / one database |`,
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      ...rows,
      "",
      "Purge (2,000 expired on each database, `purgeExpired(1000)`, median of 3):",
      "",
      "| layout | removed | ms | ms per shard |",
      "| --- | ---: | ---: | ---: |",
      purgeRow("one", 1),
      purgeRow("four", 4),
      "",
      "Bytes per session on disk, row and indexes, by the size of its data (SQLite's page count after 20,000 sessions, 4,096-byte pages as D1's; `bench/storage.py`), for this schema (`WITHOUT ROWID`), for the same table with a rowid, and for an integer key made of 52 random bits of the id (a rowid alias; the id a plain column):",
      "",
      "| data bytes | ours (WITHOUT ROWID) | with a rowid | integer key | integer key / rowid |",
      "| ---: | ---: | ---: | ---: | ---: |",
      ...PAYLOADS.map((p) => {
        const [ours, rowid, keyed] = perSession[p];
        return `| ${p} | ${ours.toFixed(0)} | ${rowid.toFixed(0)} | ${keyed.toFixed(0)} | ${(keyed / rowid).toFixed(2)} |`;
      }),
    ].join("\n");
    console.log(table);
    console.log(`scale bench: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    writeBenchmarks({ scale: `## At scale: one database against four shards\n\n${table}` });
  } finally {
    dev.stop();
  }
} finally {
  rmSync(state, { recursive: true, force: true });
}
