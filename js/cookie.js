// Cookie sessions for a plain Worker: a session handle over a SessionManager that reads the
// token from the request's cookie, lazily, and writes the Set-Cookie the response needs.
// Cookies are parsed and written by the `cookie` package; every session rule stays in the
// manager (and so in the Rust core).
import { parseCookie, stringifySetCookie } from "cookie";

// A token is 80 characters; a longer cookie value cannot be one, and is not even copied.
const MAX_TOKEN_CHARS = 128;
// At most this many cookies of the session's name are ended at logout: a browser sends one,
// or two when a sibling planted one for a sub-path; more is an attack on our D1 calls.
const MAX_CANDIDATES = 4;
const SAME_SITE = new Set(["lax", "strict", "none"]);

/**
 * The cookie's attributes, checked once: secure defaults (HttpOnly, Secure, SameSite=Lax,
 * Path=/, no Domain, a `__Host-` name), and the combinations browsers refuse are refused
 * here, so a misconfiguration fails at set-up rather than as a cookie that never sticks.
 */
/** @param {import("./cookie.d.ts").CookieOptions} [options] */
function cookieOptions(options = {}) {
  if (options === null || typeof options !== "object") throw new TypeError("cookie options must be an object");
  const secure = options.secure ?? true;
  const httpOnly = options.httpOnly ?? true;
  const sameSite = options.sameSite ?? "lax";
  const path = options.path ?? "/";
  const domain = options.domain;
  const name = options.name ?? (secure ? "__Host-session" : "session");
  for (const [key, value] of [
    ["secure", secure],
    ["httpOnly", httpOnly],
  ]) {
    if (typeof value !== "boolean") throw new TypeError(`${key} must be a boolean`);
  }
  if (!SAME_SITE.has(sameSite)) throw new RangeError('sameSite must be "lax", "strict" or "none"');
  if (typeof path !== "string" || !path.startsWith("/")) throw new RangeError("path must start with /");
  if (domain !== undefined && typeof domain !== "string") throw new TypeError("domain must be a string");
  if (typeof name !== "string" || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw new RangeError("name must be a cookie name (an RFC 6265 token)");
  }
  if (sameSite === "none" && !secure) throw new RangeError("sameSite none needs secure: browsers refuse it otherwise");
  // Browsers match the prefixes whatever their case.
  const lower = name.toLowerCase();
  if (lower.startsWith("__secure-") && !secure) throw new RangeError("a __Secure- cookie must be secure");
  if (lower.startsWith("__host-") && (!secure || path !== "/" || domain !== undefined)) {
    throw new RangeError("a __Host- cookie must be secure, with path / and no domain");
  }
  const checked = { name, secure, httpOnly, sameSite, path, domain };
  // Written once now, so a path or domain the cookie package refuses fails here, not in commit.
  try {
    stringifySetCookie({ ...checked, value: "x" });
  } catch (e) {
    throw new RangeError(`cookie options: ${e instanceof Error ? e.message : e}`);
  }
  return checked;
}

/** Whether a cookie's value could be a token: a string of 1 to MAX_TOKEN_CHARS characters. */
function looksLikeToken(value) {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_TOKEN_CHARS;
}

/** RFC 7396 applied to `{}`: the patch without its `null`s, at every depth. */
function patchOfNothing(patch) {
  const out = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) continue;
    const kept = typeof value === "object" && !Array.isArray(value) ? patchOfNothing(value) : value;
    // Defined, not assigned: a key named __proto__ is data here, as it is in the store.
    Object.defineProperty(out, key, { value: kept, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

class CookieSession {
  #manager;
  #request;
  #options;
  // The request's token: undefined until read, then a string or null.
  #incoming;
  // The values of every cookie of the session's name the request sent, once read.
  #named;
  // The request's cookies, once parsed.
  #parsed;
  // The session as last read or written on this handle: undefined until then, or null.
  // Reads answer it again rather than ask D1 twice in one request.
  #known;
  // The D1 bookmark the request's bookmark cookie carried (with `replicas`), once read.
  /** @type {string | null} */
  #bookmarkIn = null;
  #bookmarkRead = false;
  // The token the session has now (after a create or a login), and its expiry.
  #token;
  #id;
  #expiresAt;
  // What the response must say: nothing, a cookie to set, or one to clear.
  #change = "none";
  // The calls made so far, in order: each waits for the one before, so two first writes of
  // a cookieless request make one session, not two.
  #queue = Promise.resolve();

  constructor(manager, request, options) {
    this.#manager = manager;
    this.#request = request;
    this.#options = options;
  }

  /** The request's cookies, parsed once: none for no header or one the parser refuses. */
  #cookies() {
    if (this.#parsed !== undefined) return this.#parsed;
    const header = this.#request.headers.get("cookie");
    try {
      this.#parsed = header ? parseCookie(header) : {};
    } catch {
      this.#parsed = {};
    }
    return this.#parsed;
  }

  /**
   * The value of every cookie the request sent under exactly the session's name. Each pair
   * is read by the parser itself (the header split where it splits, at `;`), so a name is
   * ours by exactly its rule: a look-alike (a no-break space before it, say) is another
   * cookie, never a second one of ours.
   */
  #namedValues() {
    if (this.#named !== undefined) return this.#named;
    this.#named = [];
    const header = this.#request.headers.get("cookie");
    if (!header) return this.#named;
    const { name } = this.#options;
    for (const pair of header.split(";")) {
      let parsed;
      try {
        parsed = parseCookie(pair);
      } catch {
        continue;
      }
      if (Object.hasOwn(parsed, name)) this.#named.push(parsed[name]);
    }
    return this.#named;
  }

  /** The token the request carries: null for none, or for anything that cannot be one. */
  #requestToken() {
    if (this.#incoming !== undefined) return this.#incoming;
    this.#incoming = null;
    const named = this.#namedValues();
    // Two cookies of our name (one planted for a sub-path, say): neither is trusted.
    if (named.length === 1 && looksLikeToken(named[0])) this.#incoming = named[0];
    return this.#incoming;
  }

  /**
   * The tokens logging out ends: the session's own once this request made or rotated it;
   * else every cookie of our name the request sent, since with two no one can tell which is
   * the browser's own, and ending a planted one harms no one.
   */
  #tokensToEnd() {
    if (this.#token !== undefined) return [this.#token];
    if (this.#change === "clear") return [];
    return this.#namedValues().filter(looksLikeToken).slice(0, MAX_CANDIDATES);
  }

  #current() {
    return this.#token ?? (this.#change === "clear" ? null : this.#requestToken());
  }

  /** Runs `operation`, noting a rolling renewal of this session so the cookie follows it. */
  async #watching(operation) {
    const renewed = (event) => {
      if (event.detail.sessionId !== this.#id) return;
      this.#expiresAt = event.detail.expiresAt;
      this.#token = this.#current();
      this.#change = "set";
    };
    this.#manager.addEventListener("session_renewed", renewed);
    try {
      return await operation();
    } finally {
      this.#manager.removeEventListener("session_renewed", renewed);
    }
  }

  /**
   * With a manager on read replicas, its reads start from the bookmark this browser's last
   * response carried, so the browser reads its own writes. A cookie that is no bookmark is
   * ignored. Read once, at the handle's first call.
   */
  #adoptBookmark() {
    if (this.#bookmarkRead) return;
    this.#bookmarkRead = true;
    const value = this.#cookies()[`${this.#options.name}-bookmark`];
    if (typeof value !== "string") return;
    try {
      this.#manager.bookmark = value;
      this.#bookmarkIn = value;
    } catch {
      // Not a bookmark: reads start anywhere, as for a first visit.
    }
  }

  /** Runs `call` after every call made before it on this handle. */
  #inTurn(call) {
    this.#adoptBookmark();
    const turn = this.#queue.then(call, call);
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  getSession() {
    return this.#inTurn(() => this.#getSession());
  }

  get() {
    return this.#inTurn(async () => (await this.#getSession())?.data ?? null);
  }

  patch(patch) {
    return this.#inTurn(() => this.#patch(patch));
  }

  update(update, options) {
    return this.#inTurn(() => this.#update(update, options));
  }

  login(userId) {
    return this.#inTurn(() => this.#login(userId));
  }

  logout() {
    return this.#inTurn(() => this.#logout());
  }

  logoutEverywhere() {
    return this.#inTurn(() => this.#logoutEverywhere());
  }

  /** The session named by the token, `null` when there is none: a cookie that opens nothing is cleared. */
  async #getSession() {
    if (this.#known !== undefined) return structuredClone(this.#known);
    const token = this.#current();
    if (!token) return null;
    this.#id = token.slice(0, token.indexOf("."));
    const session = await this.#watching(() => this.#manager.getSession(token));
    if (session === null) this.#forget();
    // A copy kept: the caller may change what it was given.
    this.#known = structuredClone(session);
    return session;
  }

  /** An RFC 7396 merge patch; a session is created first when there is none. */
  async #patch(patch) {
    const token = this.#current();
    if (token) {
      this.#id = token.slice(0, token.indexOf("."));
      // What a patch leaves is not known here (others may write too): read again next time.
      this.#known = undefined;
      if (await this.#watching(() => this.#manager.patchSessionData(token, patch))) return true;
      this.#forget();
    }
    // The patch applied to nothing is the new session's data: one write, not two.
    const data = patch !== null && typeof patch === "object" && !Array.isArray(patch) ? patchOfNothing(patch) : patch;
    await this.#start(null, data);
    return true;
  }

  /** A version-checked read-modify-write; a session is created when there is none. */
  async #update(update, options) {
    const token = this.#current();
    if (token) {
      this.#id = token.slice(0, token.indexOf("."));
      // The saved data is known, its version is not: read again next time.
      this.#known = undefined;
      const saved = await this.#watching(() => this.#manager.updateSessionData(token, update, options));
      if (saved !== null) return saved;
      this.#forget();
    }
    const data = await update({});
    return (await this.#start(null, data)).data;
  }

  /**
   * Binds the session to `userId` and gives it a new secret in one step, keeping its data (a
   * cart gathered before login); a token planted before login is dead after it. A session of
   * another user is ended instead, and a fresh one made: one user's data never passes to
   * another. Creates a user session when there is none. Answers no token: the cookie
   * carries it, out of the page's reach.
   */
  async #login(userId) {
    const token = this.#current();
    if (token) {
      this.#id = token.slice(0, token.indexOf("."));
      const known = this.#known;
      this.#known = undefined;
      // The rotation itself refuses another user's session (user_mismatch), in the same
      // round trip: no read before it, and nothing between the check and the write.
      let rotated;
      try {
        rotated = await this.#manager.rotateSession(token, { userId });
      } catch (/** @type {any} */ e) {
        if (e?.code !== "user_mismatch") throw e;
        await this.#manager.deleteSession(token);
      }
      if (rotated) {
        this.#set(rotated.token, rotated.expiresAt);
        // A rotation changes the user and the expiry only.
        if (known) this.#known = { ...known, userId: rotated.userId, expiresAt: rotated.expiresAt };
        return { id: rotated.id, userId: rotated.userId, expiresAt: rotated.expiresAt };
      }
    }
    this.#forget();
    const created = await this.#start(userId, {});
    return { id: created.id, userId: created.userId, expiresAt: created.expiresAt };
  }

  /**
   * Deletes the session and clears the cookie, whatever else the request's `Cookie` header
   * holds. A failing database rejects and leaves the cookie as it was.
   */
  async #logout() {
    let deleted = false;
    for (const token of this.#tokensToEnd()) {
      if (await this.#manager.deleteSession(token)) deleted = true;
    }
    this.#forget();
    return deleted;
  }

  /** Revokes every session of this session's user, this one included; how many. */
  async #logoutEverywhere() {
    let count = 0;
    for (const token of this.#tokensToEnd()) {
      const session = token === this.#current() && this.#known ? this.#known : await this.#manager.getSession(token);
      if (session === null) continue;
      count += session.userId === null ? Number(await this.#manager.deleteSession(token)) : await this.#manager.revokeUserSessions(session.userId);
    }
    this.#forget();
    return count;
  }

  /** `response` with the Set-Cookie this request needs; the same response when nothing changed. */
  commit(response) {
    const { name, secure, httpOnly, sameSite, path, domain } = this.#options;
    const attributes = { name, secure, httpOnly, sameSite, path, domain };
    const cookies = [];
    if (this.#change === "clear") {
      cookies.push(stringifySetCookie({ ...attributes, value: "", maxAge: 0, expires: new Date(0) }));
    } else if (this.#change === "set") {
      const maxAge = Math.max(0, Math.round((this.#expiresAt.getTime() - Date.now()) / 1000));
      cookies.push(stringifySetCookie({ ...attributes, value: this.#token, maxAge, expires: this.#expiresAt }));
    }
    // The newest bookmark, for the browser's next request (only a manager on replicas has
    // one): a cookie for the browser's session alone, as it is only worth anything soon.
    const bookmark = this.#bookmarkRead ? this.#manager.bookmark : null;
    if (bookmark !== null && bookmark !== this.#bookmarkIn) {
      cookies.push(stringifySetCookie({ ...attributes, name: `${name}-bookmark`, value: bookmark }));
    }
    if (cookies.length === 0) return response;
    // A fetched Response has immutable headers: answer a copy that can take the cookie. The
    // copy keeps every header, each Set-Cookie the app wrote among them.
    const committed = new Response(response.body, response);
    for (const cookie of cookies) committed.headers.append("Set-Cookie", cookie);
    // A shared cache must never store a response that sets a session cookie and hand it to
    // someone else; an app that chose its own Cache-Control keeps it.
    if (!committed.headers.has("Cache-Control")) committed.headers.set("Cache-Control", "no-store");
    return committed;
  }

  async #start(userId, data) {
    const created = await this.#manager.createSession(userId, data);
    this.#set(created.token, created.expiresAt);
    const { token: _, ...session } = created;
    this.#known = structuredClone(session);
    return created;
  }

  #set(token, expiresAt) {
    this.#token = token;
    this.#id = token.slice(0, token.indexOf("."));
    this.#expiresAt = expiresAt;
    this.#change = "set";
  }

  /** No session any more: the response clears the cookie if the request sent one of its name. */
  #forget() {
    this.#token = undefined;
    this.#known = null;
    this.#change = this.#namedValues().length > 0 ? "clear" : "none";
  }
}

/**
 * A maker of session handles with `options` checked once, for a caller that makes one per
 * request (the Hono middleware): `(manager, request) => handle`.
 */
export function cookieSessions(options) {
  const checked = cookieOptions(options);
  return (manager, request) => new CookieSession(manager, request, checked);
}

/**
 * A session handle for one request: no D1 call until it is asked for the session, and the
 * `Set-Cookie` the response needs from `commit(response)`.
 */
export function cookieSession(manager, request, options) {
  return cookieSessions(options)(manager, request);
}
