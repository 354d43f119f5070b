// The benchmark's Worker. Each endpoint runs a bounded piece of the workload inside workerd
// and answers JSON; bench/run.mjs drives it, interleaves the rounds and writes the report.
// workerd's clock has 1 ms resolution (a Spectre mitigation), so batches are timed as a
// whole (their mean is exact to 1/k ms) and each op is also timed alone for the tail.
import { up as authjsMigrate } from "@auth/d1-adapter";
import { SessionManager } from "d1-session-manager";
import { churn, constructionBatch, constructMany } from "./construction.js";
import coreModule from "./core.wasm";
import { APPS, HONO_SESSIONS_DDL, HONO_TABLE, STEPS, browser } from "./hono.js";
import { IMPLS, KB, OPS, OURS_TABLE, PER_USER, PLAIN_TABLE, TIMEOUT_S, USER_AUTHJS, ours, plain, sha256, userOf } from "./impls.js";
import { metered } from "./meter.js";

const now = () => performance.now();

/** The round's state for k sessions of `name`: users of PER_USER sessions each. */
const sessionsFor = (name, k) => Array.from({ length: k }, (_, i) => ({ user: name === "authjs" ? USER_AUTHJS : userOf(i) }));

/**
 * The sessions an op runs on: every op once per session, but revokeAll once per user, on as
 * many users as there are sessions, each with PER_USER sessions made for it (untimed).
 */
async function targets(op, impl, name, sessions) {
  if (op !== "revokeAll") return sessions;
  const fresh = sessionsFor(name, sessions.length * PER_USER);
  for (const s of fresh) await impl.create(s);
  return fresh.filter((_, i) => i % PER_USER === 0);
}

/**
 * One round: k sessions per implementation through every op (an implementation skips the
 * ops it lacks). Within each op the implementations take turns (in `order`), so all are
 * measured in the same stretch of time and machine noise falls on them alike. revokeAll
 * runs once per user on k users of PER_USER sessions each, made for it untimed (delete has
 * removed the others), so its batch is k calls like every other op's.
 */
async function round(db, order, k) {
  const impls = Object.fromEntries(order.map((name) => [name, IMPLS[name](db)]));
  const sessions = Object.fromEntries(order.map((name) => [name, sessionsFor(name, k)]));
  const timings = Object.fromEntries(order.map((name) => [name, {}]));
  for (const op of OPS) {
    for (const name of order) {
      const impl = impls[name];
      if (!impl[op]) continue;
      const on = await targets(op, impl, name, sessions[name]);
      const perOp = [];
      const start = now();
      for (const s of on) {
        const t0 = now();
        await impl[op](s);
        perOp.push(now() - t0);
      }
      timings[name][op] = { total: now() - start, perOp };
    }
  }
  return timings;
}

/**
 * One round of requests through each Hono app in `order` (made once per round): k new
 * browsers per app take every step of STEPS, each step app by app in turn (as in `round`).
 * Per app and reported step: the mean ms per request, and with `totals` (a metered
 * binding's, in the untimed metering pass) the D1 round trips and rows per request.
 */
async function requestRound(db, order, k, totals) {
  const apps = Object.fromEntries(order.map((name) => [name, APPS[name](db)]));
  const browsers = Object.fromEntries(order.map((name) => [name, Array.from({ length: k }, () => browser(apps[name]))]));
  const result = Object.fromEntries(order.map((name) => [name, {}]));
  for (const [step, method, path] of STEPS) {
    for (const name of order) {
      const before = { ...totals };
      const start = now();
      for (const visit of browsers[name]) await visit(method, path);
      const ms = (now() - start) / k;
      if (step === "login") continue;
      result[name][step] = { ms };
      if (totals) {
        for (const key of ["trips", "rowsRead", "rowsWritten"]) result[name][step][key] = (totals[key] - before[key]) / k;
      }
    }
  }
  return result;
}

async function setup(env, migrationSql) {
  for (const table of [OURS_TABLE, PLAIN_TABLE, HONO_TABLE]) {
    const statements = migrationSql
      .replace(/--.*$/gm, "")
      .split(";")
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => s.replaceAll("sessions", table));
    for (const s of statements) await env.DB.prepare(s).run();
  }
  await authjsMigrate(env.DB);
  await env.DB.prepare(HONO_SESSIONS_DDL).run();
  await env.DB.prepare("INSERT INTO users (id, name, email) VALUES (?1, 'Bench', 'bench@example.com') ON CONFLICT DO NOTHING").bind(USER_AUTHJS).run();
}

/** Adds n rows to `table` with batch(): live ones, or already expired ones. */
async function fill(env, table, n, expired) {
  const at = Date.now();
  const expiresAt = expired ? at - 1000 : at + TIMEOUT_S * 1000;
  const insert = env.DB.prepare(`INSERT INTO "${table}" (id, secret_hash, user_id, data, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)`);
  const data = JSON.stringify({ n: 1 });
  // Rows of many users (the fill's own), so the user index is as full as the table.
  for (let done = 0; done < n; ) {
    const size = Math.min(500, n - done);
    const row = (i) => insert.bind(crypto.randomUUID(), "fill", `fill-${done + i}`, data, at, expiresAt);
    await env.DB.batch(Array.from({ length: size }, (_, i) => row(i)));
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
function cannedD1(hop, hash) {
  const at = Date.now();
  const row = {
    id: crypto.randomUUID(),
    secret_hash: hash,
    user_id: "canned",
    data: '{"n":1}',
    created_at: at,
    expires_at: at + TIMEOUT_S * 1000,
    version: 1,
    due: 0,
  };
  const wait = hop ? () => hop.prepare("SELECT 1").first() : async () => {};
  const statement = {
    bind: () => statement,
    first: async () => {
      await wait();
      return row;
    },
    all: async () => {
      await wait();
      return { results: [row], meta: {} };
    },
    run: async () => {
      await wait();
      return { results: [], meta: { changes: 1 } };
    },
  };
  const batch = async (s) => {
    await wait();
    return s.map(() => ({ results: [row], meta: {} }));
  };
  return { prepare: () => statement, batch };
}

/** Ops over a canned binding (list and revokeAll see one row). */
const CANNED_OPS = ["create", "get", "save", "casSave", "patch", "renew", "rotate", "list", "delete", "revokeAll"];

/**
 * Per-op cost (µs) of ours and plain over a canned binding, taking turns per op. Every op
 * presents the same token, whose hash the canned row holds (rotate's new token is dropped).
 */
async function canned(k, hop) {
  const secret = "A".repeat(43);
  const token = `${crypto.randomUUID()}.${secret}`;
  const hash = await sha256(secret);
  const impls = { ours: IMPLS.ours(cannedD1(hop, hash)), plain: IMPLS.plain(cannedD1(hop, hash)) };
  const result = { ours: {}, plain: {} };
  for (const op of CANNED_OPS) {
    for (const name of k % 2 ? ["plain", "ours"] : ["ours", "plain"]) {
      const impl = impls[name];
      const start = now();
      for (let i = 0; i < k; i++) await impl[op]({ token, user: "canned", version: 1 });
      result[name][op] = ((now() - start) / k) * 1000;
    }
  }
  return result;
}

/**
 * Contention: `n` writers increment one counter at once. Ours with updateSessionData
 * (compare-and-swap, retried): the wall time, and attempts per success (calls of `update`).
 * Plain replace (read, then save whatever was read): the wall time, and how many of the n
 * increments were lost.
 */
async function contention(db, n) {
  const m = new SessionManager(db, { timeout: TIMEOUT_S, tableName: OURS_TABLE });
  const cas = await m.createSession("contention", { count: 0 });
  let attempts = 0;
  const increment = (data) => {
    attempts += 1;
    return { count: data.count + 1 };
  };
  let start = now();
  await Promise.all(Array.from({ length: n }, () => m.updateSessionData(cas.token, increment, { retries: n })));
  const casMs = now() - start;
  const casFinal = (await m.getSessionData(cas.token)).count;
  const replace = await m.createSession("contention", { count: 0 });
  start = now();
  await Promise.all(
    Array.from({ length: n }, async () => {
      const data = await m.getSessionData(replace.token);
      await m.saveSessionData(replace.token, { count: data.count + 1 });
    }),
  );
  const replaceMs = now() - start;
  const replaceFinal = (await m.getSessionData(replace.token)).count;
  await m.deleteSession(cas.token);
  await m.deleteSession(replace.token);
  return {
    cas: { ms: casMs, attemptsPerSuccess: attempts / n, final: casFinal },
    replace: { ms: replaceMs, lost: n - replaceFinal, final: replaceFinal },
  };
}

/** What plain pays to hash: one WebCrypto SHA-256 of a secret, awaited (µs, mean of k). */
async function hashing(k) {
  const secret = "A".repeat(43);
  const start = now();
  for (let i = 0; i < k; i++) await sha256(secret);
  return { webCryptoUs: ((now() - start) / k) * 1000 };
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
        const name = url.searchParams.get("impl");
        const { db, totals } = metered(env.DB);
        const impl = IMPLS[name](db);
        const sessions = sessionsFor(name, k);
        const result = {};
        for (const op of OPS) {
          if (!impl[op]) continue;
          const on = await targets(op, impl, name, sessions);
          const before = { ...totals };
          for (const s of on) await impl[op](s);
          result[op] = {
            trips: (totals.trips - before.trips) / on.length,
            rowsRead: (totals.rowsRead - before.rowsRead) / on.length,
            rowsWritten: (totals.rowsWritten - before.rowsWritten) / on.length,
          };
        }
        return json(result);
      }
      case "/requests": {
        // ?order=ours,honoSessions&k=50[&meter]
        const order = url.searchParams.get("order").split(",");
        if (!url.searchParams.has("meter")) return json(await requestRound(env.DB, order, k));
        const { db, totals } = metered(env.DB);
        return json(await requestRound(db, order, k, totals));
      }
      case "/fill":
        return json(await fill(env, url.searchParams.get("table"), k, url.searchParams.has("expired")));
      case "/scale": {
        // Reads and writes of existing sessions in a table of the current size.
        const table = url.searchParams.get("table");
        const impl = table === OURS_TABLE ? ours(env.DB) : plain(env.DB);
        const sessions = sessionsFor("scale", k);
        for (const s of sessions) await impl.create(s);
        const timing = {};
        for (const op of ["get", "save"]) {
          const start = now();
          for (const s of sessions) await impl[op](s);
          timing[op] = (now() - start) / k;
        }
        for (const s of sessions) await impl.delete(s);
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
      case "/contention":
        return json(await contention(env.DB, k));
      case "/hash":
        return json(await hashing(k));
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
