// The benchmark's Worker. Each endpoint runs a bounded piece of the workload inside workerd
// and answers JSON; bench/run.mjs drives it, interleaves the rounds and writes the report.
// workerd's clock has 1 ms resolution (a Spectre mitigation), so batches are timed as a
// whole (their mean is exact to 1/k ms) and each op is also timed alone for the tail.
import { up as authjsMigrate } from "@auth/d1-adapter";
import { SessionManager } from "d1-session-manager";
import { churn, constructionBatch, constructMany } from "./construction.js";
import coreModule from "./core.wasm";
import { IMPLS, KB, OPS, OURS_TABLE, PLAIN_TABLE, TIMEOUT_S, USER, ours, plain } from "./impls.js";
import { metered } from "./meter.js";

const now = () => performance.now();

/**
 * One round: k sessions per implementation through create, get, save, renew and delete.
 * Within each op the implementations take turns (in `order`), so all three are measured in
 * the same stretch of time and machine noise falls on them alike.
 */
async function round(db, order, k) {
  const impls = Object.fromEntries(order.map((name) => [name, IMPLS[name](db)]));
  const ids = Object.fromEntries(order.map((name) => [name, []]));
  const timings = Object.fromEntries(order.map((name) => [name, {}]));
  for (const op of OPS) {
    for (const name of order) {
      const impl = impls[name];
      const perOp = [];
      const start = now();
      for (let i = 0; i < k; i++) {
        const t0 = now();
        if (op === "create") ids[name].push(await impl.create());
        else await impl[op](ids[name][i]);
        perOp.push(now() - t0);
      }
      timings[name][op] = { total: now() - start, perOp };
    }
  }
  return timings;
}

async function setup(env, migrationSql) {
  for (const table of [OURS_TABLE, PLAIN_TABLE]) {
    const statements = migrationSql
      .replace(/--.*$/gm, "")
      .split(";")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => s.replaceAll("sessions", table));
    for (const s of statements) await env.DB.prepare(s).run();
  }
  await authjsMigrate(env.DB);
  await env.DB.prepare(
    "INSERT INTO users (id, name, email) VALUES (?1, 'Bench', 'bench@example.com') ON CONFLICT DO NOTHING",
  )
    .bind(USER)
    .run();
}

/** Adds n rows to `table` with batch(): live ones, or already expired ones. */
async function fill(env, table, n, expired) {
  const at = Date.now();
  const expiresAt = expired ? at - 1000 : at + TIMEOUT_S * 1000;
  const insert = env.DB.prepare(
    `INSERT INTO "${table}" (id, user_id, data, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)`,
  );
  const data = JSON.stringify({ n: 1 });
  for (let done = 0; done < n; ) {
    const size = Math.min(500, n - done);
    await env.DB.batch(Array.from({ length: size }, () => insert.bind(crypto.randomUUID(), USER, data, at, expiresAt)));
    done += size;
  }
  const { count } = await env.DB.prepare(`SELECT count(*) AS count FROM "${table}"`).first();
  return { count };
}

/** The fixed cost of our path with no D1 call: a bogus id is refused before any I/O. */
async function overhead(env, n) {
  const m = new SessionManager(env.DB, { tableName: OURS_TABLE });
  let start = now();
  for (let i = 0; i < n; i++) await m.getSessionData("not-an-id");
  const call = (now() - start) / n;
  start = now();
  for (let i = 0; i < n; i++) await m.saveSessionData("not-an-id", KB);
  const saveWithData = (now() - start) / n;
  start = now();
  for (let i = 0; i < n; i++) JSON.parse(JSON.stringify(KB));
  const jsJsonRoundTrip = (now() - start) / n;
  return { call, saveWithData, jsJsonRoundTrip };
}

/**
 * A D1 binding that answers with a canned row: at once, or (`hop`) after one real I/O
 * round trip (`SELECT 1` on the real D1). Over the first an implementation costs only its
 * CPU (JS, the wasm boundary, serde); the second adds identical I/O for every implementation,
 * so what differs is how each resumes after it.
 */
function cannedD1(hop) {
  const at = Date.now();
  const row = { user_id: USER, data: '{"n":1}', created_at: at, expires_at: at + TIMEOUT_S * 1000, inserted: 1, renewed: 1 };
  const wait = hop ? () => hop.prepare("SELECT 1").first() : async () => {};
  const statement = {
    bind: () => statement,
    first: async () => (await wait(), row),
    all: async () => (await wait(), { results: [row], meta: {} }),
    run: async () => (await wait(), { results: [], meta: { changes: 1 } }),
  };
  return { prepare: () => statement, batch: async (s) => (await wait(), s.map(() => ({ results: [row], meta: {} }))) };
}

/** Per-op cost (µs) of ours and plain over a canned binding, taking turns per op. */
async function canned(k, hop) {
  const impls = { ours: IMPLS.ours(cannedD1(hop)), plain: IMPLS.plain(cannedD1(hop)) };
  const result = { ours: {}, plain: {} };
  const id = crypto.randomUUID();
  for (const op of OPS) {
    for (const name of k % 2 ? ["plain", "ours"] : ["ours", "plain"]) {
      const impl = impls[name];
      const start = now();
      for (let i = 0; i < k; i++) await (op === "create" ? impl.create() : impl[op](id));
      result[name][op] = ((now() - start) / k) * 1000;
    }
  }
  return result;
}

/**
 * Instantiating the package's compiled module, as its entry does at import time. (workerd
 * refuses to compile wasm from bytes at run time; compilation is timed in Node's V8.)
 */
function instantiation(n) {
  const imports = {};
  for (const { module, name } of WebAssembly.Module.imports(coreModule)) {
    imports[module] ??= {};
    imports[module][name] = () => {};
  }
  const start = now();
  for (let i = 0; i < n; i++) new WebAssembly.Instance(coreModule, imports);
  return { ms: (now() - start) / n };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const k = Number(url.searchParams.get("k") ?? 20);
    const json = (value) => Response.json(value);
    switch (url.pathname) {
      case "/setup":
        await setup(env, await request.text());
        return json({ ok: true });
      case "/round":
        return json(await round(env.DB, url.searchParams.get("order").split(","), k));
      case "/meter": {
        const { db, totals } = metered(env.DB);
        const impl = IMPLS[url.searchParams.get("impl")](db);
        const result = {};
        const ids = [];
        for (const op of OPS) {
          const before = { ...totals };
          for (let i = 0; i < k; i++) {
            if (op === "create") ids.push(await impl.create());
            else await impl[op](ids[i]);
          }
          result[op] = {
            trips: (totals.trips - before.trips) / k,
            rowsRead: (totals.rowsRead - before.rowsRead) / k,
            rowsWritten: (totals.rowsWritten - before.rowsWritten) / k,
          };
        }
        return json(result);
      }
      case "/fill":
        return json(await fill(env, url.searchParams.get("table"), k, url.searchParams.has("expired")));
      case "/scale": {
        // Reads and writes of existing sessions in a table of the current size.
        const table = url.searchParams.get("table");
        const impl = table === OURS_TABLE ? ours(env.DB) : plain(env.DB);
        const ids = [];
        for (let i = 0; i < k; i++) ids.push(await impl.create());
        const timing = {};
        for (const op of ["get", "save"]) {
          const start = now();
          for (const id of ids) await impl[op](id);
          timing[op] = (now() - start) / k;
        }
        for (const id of ids) await impl.delete(id);
        return json(timing);
      }
      case "/purge": {
        // The cron path: the manager's purge in batches of 1,000 until none are left.
        const m = new SessionManager(env.DB, { tableName: OURS_TABLE });
        const start = now();
        let removed = 0;
        for (let n = -1; n !== 0; removed += n) n = await m.purgeExpired(1000);
        return json({ removed, ms: now() - start });
      }
      case "/overhead":
        return json(await overhead(env, k));
      case "/canned":
        return json(await canned(k, url.searchParams.has("hop") ? env.DB : undefined));
      case "/instantiate":
        return json(instantiation(k));
      case "/construct": {
        // ?order=ours,eventTarget,prepare&ours=2000&eventTarget=10000&prepare=10000
        const order = url.searchParams.get("order").split(",");
        const sizes = Object.fromEntries(order.map((kind) => [kind, Number(url.searchParams.get(kind))]));
        return json(await constructionBatch(env.DB, order, sizes));
      }
      case "/construct-many":
        return json(await constructMany(env.DB, k));
      case "/churn":
        return json(await churn(k));
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
