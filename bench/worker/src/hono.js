// Per request through a Hono app: this package's middleware (the README's app) against
// hono-sessions over a D1 Store written the way its users write one. Both apps take the
// binding as an argument, so the metering pass can hand them a counted one.
import { SessionManager } from "d1-session-manager";
import { sessions } from "d1-session-manager/hono";
import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { sessionMiddleware } from "hono-sessions";

/** The README app's idle timeout, given to both. */
const IDLE_S = 3600;
/** Our app's table: the default, `sessions`, is Auth.js's in the bench's one D1. */
export const HONO_TABLE = "bench_hono";

/** The README's app (less logout, which the bench never requests), over `db`. */
function ours(db) {
  const app = new Hono();
  app.use(csrf());
  app.use(sessions(() => new SessionManager(db, { timeout: IDLE_S, tableName: HONO_TABLE })));
  app.post("/login", async (c) => {
    await c.get("session").login("user-42");
    return c.text("ok");
  });
  app.get("/me", async (c) => c.json(await c.get("session").get()));
  app.post("/cart", async (c) => {
    await c.get("session").patch({ [`item-${crypto.randomUUID()}`]: 1 });
    return c.text("ok");
  });
  return app;
}

/**
 * hono-sessions' table. Its own SQLite store (BunSqliteStore) keeps `(id, data)`; the
 * expiry is copied into a column so a cron can purge expired rows, which otherwise stay
 * until their cookie comes back. No index on it: the simplest store, and the fewest rows
 * written per write.
 */
export const HONO_SESSIONS_DDL = "CREATE TABLE IF NOT EXISTS hono_sessions (id TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at INTEGER)";

/** `_expire` is hono-sessions' expiry, an ISO date, or null on a session not yet saved. */
const expiresAt = (data) => (data._expire === null ? null : Date.parse(data._expire));

/** hono-sessions' `Store` interface over D1: one statement per method. */
class D1Store {
  constructor(db) {
    this.db = db;
  }

  async getSessionById(id) {
    const row = await this.db.prepare("SELECT data FROM hono_sessions WHERE id = ?1").bind(id).first();
    return row && JSON.parse(row.data);
  }

  async createSession(id, data) {
    await this.db.prepare("INSERT INTO hono_sessions (id, data, expires_at) VALUES (?1, ?2, ?3)").bind(id, JSON.stringify(data), expiresAt(data)).run();
  }

  async persistSessionData(id, data) {
    await this.db.prepare("UPDATE hono_sessions SET data = ?2, expires_at = ?3 WHERE id = ?1").bind(id, JSON.stringify(data), expiresAt(data)).run();
  }

  async deleteSession(id) {
    await this.db.prepare("DELETE FROM hono_sessions WHERE id = ?1").bind(id).run();
  }
}

/**
 * The same app with hono-sessions, set as its README recommends: an encryption key (the
 * cookie carries the sealed session id), rolling expiry (`autoExtendExpiration`, its
 * default, like our `rolling`) after the same idle time, and the cookie ours sets
 * (`__Host-`, so Secure and Path=/; HttpOnly; SameSite=Lax; Max-Age). Login rotates the
 * session id, as ours rotates the token.
 */
function honoSessions(db) {
  const app = new Hono();
  app.use(csrf());
  app.use(
    sessionMiddleware({
      store: new D1Store(db),
      encryptionKey: "bench-encryption-key-of-at-least-32-characters",
      expireAfterSeconds: IDLE_S,
      cookieOptions: { prefix: "host", httpOnly: true, sameSite: "Lax", maxAge: IDLE_S },
    }),
  );
  app.post("/login", (c) => {
    c.get("session").set("userId", "user-42");
    c.set("session_key_rotation", true);
    return c.text("ok");
  });
  app.get("/me", (c) => c.json({ userId: c.get("session").get("userId") }));
  app.post("/cart", (c) => {
    c.get("session").set(`item-${crypto.randomUUID()}`, 1);
    return c.text("ok");
  });
  return app;
}

export const APPS = { ours, honoSessions };

const ORIGIN = "https://app.test";

/**
 * A browser on `app`, served at ORIGIN: one cookie jar across its requests, and an `Origin`
 * header on its posts (their own page's; hono/csrf refuses a post without one). Every
 * `Set-Cookie` of an answer is applied in order (hono-sessions sets its cookie twice on a
 * request that rotates), and `Max-Age=0` removes the cookie.
 */
export function browser(app) {
  const jar = new Map();
  return async (method, path) => {
    const headers = method === "GET" ? {} : { origin: ORIGIN };
    if (jar.size) headers.cookie = Array.from(jar, ([name, value]) => `${name}=${value}`).join("; ");
    const response = await app.request(ORIGIN + path, { method, headers });
    for (const set of response.headers.getSetCookie()) {
      const [pair] = set.split(";");
      const eq = pair.indexOf("=");
      if (/;\s*max-age=0(;|$)/i.test(set)) jar.delete(pair.slice(0, eq));
      else jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
}

/**
 * What a round asks of each browser, in order: an anonymous visit (no cookie yet, the page
 * reads the session), a sign-in (set-up, not reported), a signed-in read and a cart update.
 */
export const STEPS = [
  ["anonymous", "GET", "/me"],
  ["login", "POST", "/login"],
  ["me", "GET", "/me"],
  ["cart", "POST", "/cart"],
];
