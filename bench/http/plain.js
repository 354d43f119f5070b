// The HTTP bench's baseline: the Worker's API (openapi.yaml) written by hand in plain JS,
// with no wasm and no library, so `npm run bench` can tell what our Worker adds over the
// floor. It serves the same routes with the same auth (the bearer compared in constant
// time), headers (Session-Token, ETag, If-Match, Cache-Control: no-store, Location, Allow),
// status codes and error envelope, issues the same SQL statements (src/bridge/d1/sql.rs,
// built from the same pieces) through the same D1 methods, one round trip per operation,
// and writes the same signal log lines. Tokens are `<uuid v4>.<43 base64url chars>` from
// crypto.getRandomValues; the secret's SHA-256 comes from crypto.subtle.
//
// It does the same work on the happy path: reads the vars per request, streams the body
// within the size limit, parses it and checks its shape, sizes and user ids. What it leaves
// out, none of which a valid request reaches: refusing data with a top-level key twice,
// nesting deeper than 1,000 levels or lone surrogates; the exact error messages; the
// `session_*_failed` log lines; and the trap containment of worker/index.js (there is no
// wasm to trap).

const TABLE = '"sessions"';
/** The statements' pieces, as src/bridge/d1/sql.rs names and joins them. */
const NOW = "CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";
const PATCHED = "json_patch(data, ?3)";
const MAX_LISTED = 100;
const renewed = (idle, absolute) => `MIN(${NOW} + ${idle}, created_at + ${absolute})`;
const write = (data) => `data = ${data}, version = version + 1`;
const expected = (version) => `(${version} = 0 OR version = ${version})`;
const due = (within, absolute) => `expires_at < ${NOW} + ${within} AND expires_at < created_at + ${absolute}`;
const notDue = (within, absolute) => `(expires_at >= ${NOW} + ${within} OR expires_at >= created_at + ${absolute})`;
const fits = (max) => `length(CAST(${PATCHED} AS BLOB)) <= ${max}`;
const SAVED = "user_id, created_at, expires_at, version";
const LIVE = `id = ?1 AND secret_hash = ?2 AND expires_at > ${NOW}`;
const patchWrite = (returning) => ({
  notDue: `UPDATE ${TABLE} SET ${write(PATCHED)} WHERE ${LIVE} AND ${notDue("?5", "?6")} AND ${fits("?4")} RETURNING ${returning}`,
  due: `UPDATE ${TABLE} SET ${write(PATCHED)}, expires_at = ${renewed("?7", "?6")} WHERE ${LIVE} AND ${due("?5", "?6")} AND ${fits("?4")} RETURNING ${returning}`,
});
/** Only the statements the Worker issues (rolling renewal on, as its manager has it). */
const SQL = {
  insert: `INSERT INTO ${TABLE} (id, secret_hash, user_id, data, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ${NOW}, ${NOW} + ?5) ON CONFLICT (id) DO NOTHING RETURNING created_at, expires_at`,
  version: `SELECT version FROM ${TABLE} WHERE ${LIVE}`,
  load: `SELECT secret_hash, user_id, data, created_at, expires_at, version, expires_at < ${NOW} + ?2 AND expires_at < created_at + ?3 AS due FROM ${TABLE} WHERE id = ?1 AND expires_at > ${NOW}`,
  find: `SELECT user_id, created_at, expires_at FROM ${TABLE} WHERE id = ?1 AND expires_at > ${NOW}`,
  save: {
    notDue: `UPDATE ${TABLE} SET ${write("?3")} WHERE ${LIVE} AND ${expected("?4")} AND ${notDue("?5", "?6")} RETURNING ${SAVED}`,
    due: `UPDATE ${TABLE} SET ${write("?3")}, expires_at = ${renewed("?7", "?6")} WHERE ${LIVE} AND ${expected("?4")} AND ${due("?5", "?6")} RETURNING ${SAVED}`,
  },
  patchAnswering: patchWrite(`data, ${SAVED}`),
  setExpiry: `UPDATE ${TABLE} SET expires_at = ${renewed("?3", "?4")} WHERE ${LIVE} AND created_at + ?4 > ${NOW} RETURNING expires_at`,
  rotate: `UPDATE ${TABLE} SET secret_hash = ?3, expires_at = ${renewed("?4", "?5")} WHERE ${LIVE} AND created_at + ?5 > ${NOW} RETURNING user_id, expires_at`,
  rotateToUser: `UPDATE ${TABLE} SET secret_hash = ?3, user_id = ?4, expires_at = ${renewed("?5", "?6")} WHERE ${LIVE} AND created_at + ?6 > ${NOW} RETURNING user_id, expires_at`,
  delete: `DELETE FROM ${TABLE} WHERE ${LIVE}`,
  revoke: `DELETE FROM ${TABLE} WHERE id = ?1 AND expires_at > ${NOW}`,
  listUser: `SELECT id, created_at, expires_at FROM ${TABLE} WHERE user_id = ?1 AND expires_at > ${NOW} ORDER BY created_at DESC, id DESC LIMIT ${MAX_LISTED}`,
  deleteUser: `DELETE FROM ${TABLE} WHERE user_id = ?1 AND id != ?2 AND expires_at > ${NOW} RETURNING id`,
};

// The Worker's limits (src/core/config.rs, src/http/request.rs, src/http/auth.rs).
const MAX_DATA_BYTES = 1_000_000;
const CREATE_BODY_OVERHEAD = 4096;
const ROTATE_BODY_LIMIT = 4096;
const MAX_USER_ID_CHARS = 256;
const MIN_TOKEN_CHARS = 32;
const MAX_TIMEOUT_SECS = 100 * 365 * 86_400;
const JSON_MEDIA = "application/json";
const MERGE_PATCH = "application/merge-patch+json";
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TOKEN = /^([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})\.[A-Za-z0-9_-]{43}$/;

class ApiError extends Error {
  constructor(status, code, message, { allow, detail } = {}) {
    super(message);
    Object.assign(this, { status, code, allow, detail });
  }
}
const notFound = (message) => new ApiError(404, "not_found", message);
const tokenNotFound = () => notFound("no live session has this token");
const invalidArgument = (message) => new ApiError(400, "invalid_argument", message);
const invalidData = (message) => new ApiError(400, "invalid_data", message);
const notConfigured = (message) => new ApiError(503, "not_configured", message);
const unauthorized = (detail) => new ApiError(401, "unauthorized", "a valid `Authorization: Bearer <token>` is required", { detail });

const log = (line) => console.log(JSON.stringify(line));
const iso = (ms) => new Date(ms).toISOString();

function respond(status, body, head, headers = {}) {
  const h = new Headers();
  if (body !== undefined) h.set("Content-Type", "application/json");
  h.set("Cache-Control", "no-store");
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) h.set(name, value);
  return new Response(head || body === undefined ? null : JSON.stringify(body), { status, headers: h });
}

/** The handler a method and path reach, as src/http/route.rs decides it. */
function route(method, path) {
  const m = method === "HEAD" ? "GET" : method;
  const s = path.slice(1).split("/");
  const allowed = (allow) => {
    throw new ApiError(405, "method_not_allowed", `allowed: ${allow}`, { allow });
  };
  if (s.length === 1 && s[0] === "health") return m === "GET" ? ["health"] : allowed("GET, HEAD");
  if (s.length === 1 && s[0] === "sessions") return m === "POST" ? ["create"] : allowed("POST");
  if (s.length === 1 && s[0] === "session") return m === "GET" ? ["get"] : m === "DELETE" ? ["delete"] : allowed("GET, HEAD, DELETE");
  if (s.length === 2 && s[0] === "session") {
    if (s[1] === "data") return m === "PUT" ? ["save"] : m === "PATCH" ? ["patch"] : allowed("PUT, PATCH");
    if (s[1] === "renew") return m === "POST" ? ["renew"] : allowed("POST");
    if (s[1] === "rotate") return m === "POST" ? ["rotate"] : allowed("POST");
  }
  if (s.length === 2 && s[0] === "sessions") return m === "GET" ? ["find", s[1]] : m === "DELETE" ? ["revoke", s[1]] : allowed("GET, HEAD, DELETE");
  if (s.length === 3 && s[0] === "users" && s[2] === "sessions") {
    return m === "GET" ? ["listUser", s[1]] : m === "DELETE" ? ["revokeUser", s[1]] : allowed("GET, HEAD, DELETE");
  }
  throw notFound("no such route");
}

/** Every character of `expected` is compared whatever `given` holds: the time depends only on its length. */
function constantTimeEqual(given, expected) {
  let diff = given.length === expected.length ? 0 : 1;
  for (let i = 0; i < expected.length; i++) diff |= (given.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  return diff === 0;
}

function authorize(secret, header) {
  secret = typeof secret === "string" ? secret.trim() : "";
  if (!secret) throw unauthorized("the API_TOKEN secret is not set: every route but /health answers 401");
  const given = header?.trim() ?? "";
  const space = given.indexOf(" ");
  const matches = space >= 0 && given.slice(0, space).toLowerCase() === "bearer" && constantTimeEqual(given.slice(space + 1).trim(), secret);
  if (!matches) throw unauthorized();
  if ([...secret].length < MIN_TOKEN_CHARS) throw notConfigured(`the API_TOKEN secret is shorter than ${MIN_TOKEN_CHARS} characters`);
}

function numberVar(env, name) {
  const v = env[name];
  if (v === undefined) return undefined;
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n < 1 || n > MAX_TIMEOUT_SECS) throw notConfigured(`${name} must be a whole number from 1 to ${MAX_TIMEOUT_SECS}`);
  return n;
}

/** The manager's settings in ms, read from the env on every request as the Worker does. */
function config(env) {
  if (typeof env.DB?.prepare !== "function") throw notConfigured("the DB binding is missing");
  const timeout = numberVar(env, "SESSION_TIMEOUT") ?? 86_400;
  const absolute = numberVar(env, "SESSION_ABSOLUTE_TIMEOUT");
  if (absolute !== undefined && absolute < timeout) throw notConfigured("SESSION_ABSOLUTE_TIMEOUT: must not be below timeout");
  return {
    db: env.DB,
    idle: timeout * 1000,
    // No absolute limit binds 2^53 - 1, as the package does.
    absolute: absolute === undefined ? Number.MAX_SAFE_INTEGER : absolute * 1000,
    atCreation: Math.min(timeout, absolute ?? timeout) * 1000,
    // Rolling renewal: due when less than half the timeout is left.
    dueWithin: (timeout * 1000) / 2,
  };
}

const isMedia = (contentType, media) => contentType?.split(";")[0].trim().toLowerCase() === media;

/** The body as text, refused (413) as soon as it is known to exceed `limit`: no more than `limit` bytes are held. */
async function readBody(request, limit, mayBeEmpty, media) {
  if (!request.body) {
    if (mayBeEmpty) return "";
    throw new ApiError(415, "unsupported_media_type", `the body must be ${media}`);
  }
  const contentType = request.headers.get("content-type");
  if (!isMedia(contentType, media)) {
    if (mayBeEmpty && contentType === null && (await request.arrayBuffer()).byteLength === 0) return "";
    throw new ApiError(415, "unsupported_media_type", `the body must be ${media}`);
  }
  const tooLarge = () => new ApiError(413, "payload_too_large", `the request body is larger than ${limit} bytes`);
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) throw tooLarge();
  const reader = request.body.getReader();
  const chunks = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > limit) {
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(400, "invalid_json", "the body is not UTF-8");
  }
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, "invalid_json", `not valid JSON: ${e.message}`);
  }
}

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
const utf8Length = (text) => new TextEncoder().encode(text).byteLength;

/** Data as JSON text: one object within the limit; its text and its top-level keys. */
function checkData(text, value = parseJson(text)) {
  if (utf8Length(text) > MAX_DATA_BYTES) throw new ApiError(413, "payload_too_large", `session data is larger than ${MAX_DATA_BYTES} bytes`);
  if (!isObject(value)) throw invalidData("session data must be a JSON object");
  return { text, keys: Object.keys(value) };
}

function checkUserId(user) {
  if (user === undefined || user === null) return null;
  if (typeof user !== "string") throw invalidArgument(`userId must be a string or null, got ${Array.isArray(user) ? "an array" : typeof user}`);
  const chars = [...user].length;
  if (chars === 0 || chars > MAX_USER_ID_CHARS) throw invalidArgument(`userId must be 1 to ${MAX_USER_ID_CHARS} characters`);
  return user;
}

/** `*` or no header: any version; else the one `"N"` an ETag gives. */
function ifMatch(value) {
  if (value === null || value.trim() === "*") return null;
  const m = /^"([1-9][0-9]{0,15})"$/.exec(value.trim());
  const version = m && Number(m[1]);
  if (!version || version > Number.MAX_SAFE_INTEGER) throw invalidArgument('If-Match must be * or one entity tag as ETag gives it, such as "3"');
  return version;
}

const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const sha256 = async (text) => b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
const newSecret = () => b64url(crypto.getRandomValues(new Uint8Array(32)));

/** The session token from `Session-Token`: 400 when missing or blank; `null` when not of the issued shape. */
function sessionToken(request) {
  const header = request.headers.get("session-token");
  if (header === null || header.trim() === "") throw invalidArgument("this route needs the session's token in the `Session-Token` header");
  const m = TOKEN.exec(header);
  return m && { id: m[1], secret: header.slice(m[1].length + 1) };
}

function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidArgument("the userId in the path must be percent-encoded UTF-8");
  }
}

const sessionBody = (id, row, data) => ({
  id,
  userId: row.user_id,
  data,
  createdAt: iso(row.created_at),
  expiresAt: iso(row.expires_at),
  version: row.version,
});
const listed = (row, userId) => ({ id: row.id, userId, createdAt: iso(row.created_at), expiresAt: iso(row.expires_at) });

/** A data write: the not-due and due halves (and the live row's version when `check`) in one batch. */
async function writeData(c, id, hash, pair, payload, fourth, check) {
  const statements = [
    c.db.prepare(pair.notDue).bind(id, hash, payload, fourth, c.dueWithin, c.absolute),
    c.db.prepare(pair.due).bind(id, hash, payload, fourth, c.dueWithin, c.absolute, c.idle),
  ];
  if (check) statements.push(c.db.prepare(SQL.version).bind(id, hash));
  const [notDueResult, dueResult, checked] = await c.db.batch(statements);
  // The due half runs last: when both matched, its row (renewed) is the answer.
  const dueRow = dueResult.results[0];
  const row = dueRow ?? notDueResult.results[0];
  return { row, renewed: dueRow !== undefined, refused: !row && checked?.results[0] !== undefined };
}

function saved(id, written, data, keys) {
  log({ signal: "session_data_saved", sessionId: id, savedKeys: keys, version: written.row.version });
  if (written.renewed) log({ signal: "session_renewed", sessionId: id, expiresAt: iso(written.row.expires_at) });
  return [200, sessionBody(id, written.row, data), { ETag: `"${written.row.version}"` }];
}

const handlers = {
  async create(request, c) {
    const text = await readBody(request, MAX_DATA_BYTES + CREATE_BODY_OVERHEAD, true, JSON_MEDIA);
    const body = text.trim() === "" ? {} : parseJson(text);
    if (!isObject(body)) throw invalidData('the body must be a JSON object: { "userId"?, "data"? }');
    const userId = checkUserId(body.userId);
    const data = body.data === undefined ? { text: "{}", keys: [] } : checkData(JSON.stringify(body.data), body.data);
    const id = crypto.randomUUID();
    const secret = newSecret();
    const row = await c.db
      .prepare(SQL.insert)
      .bind(id, await sha256(secret), userId, data.text, c.atCreation)
      .first();
    log({ signal: "session_created", sessionId: id, userId });
    const created = { id, token: `${id}.${secret}`, userId, data: body.data ?? {}, createdAt: iso(row.created_at), expiresAt: iso(row.expires_at), version: 1 };
    return [201, created, { Location: `/sessions/${id}` }];
  },
  async get(request, c) {
    const token = sessionToken(request);
    if (!token) throw tokenNotFound();
    const hash = await sha256(token.secret);
    const row = await c.db.prepare(SQL.load).bind(token.id, c.dueWithin, c.absolute).first();
    if (!row || !constantTimeEqual(row.secret_hash, hash)) throw tokenNotFound();
    const data = JSON.parse(row.data);
    log({ signal: "session_data_retrieved", sessionId: token.id, dataKeys: Object.keys(data) });
    if (row.due) {
      const renewal = await c.db.prepare(SQL.setExpiry).bind(token.id, hash, c.idle, c.absolute).first();
      if (renewal) {
        row.expires_at = renewal.expires_at;
        log({ signal: "session_renewed", sessionId: token.id, expiresAt: iso(renewal.expires_at) });
      }
    }
    return [200, sessionBody(token.id, row, data), { ETag: `"${row.version}"` }];
  },
  async save(request, c) {
    const token = sessionToken(request);
    const version = ifMatch(request.headers.get("if-match"));
    const text = await readBody(request, MAX_DATA_BYTES, false, JSON_MEDIA);
    const value = parseJson(text);
    const data = checkData(text, value);
    if (!token) throw tokenNotFound();
    const hash = await sha256(token.secret);
    const written = await writeData(c, token.id, hash, SQL.save, data.text, version ?? 0, version !== null);
    if (written.refused) throw new ApiError(412, "conflict", "the session's version is no longer the one given: it was written since");
    if (!written.row) throw tokenNotFound();
    return saved(token.id, written, value, data.keys);
  },
  async patch(request, c) {
    const token = sessionToken(request);
    if (ifMatch(request.headers.get("if-match")) !== null) throw invalidArgument("PATCH takes no If-Match: use PUT with If-Match for a checked write");
    const text = await readBody(request, MAX_DATA_BYTES, false, MERGE_PATCH);
    const patch = checkData(text);
    if (!token) throw tokenNotFound();
    const hash = await sha256(token.secret);
    const written = await writeData(c, token.id, hash, SQL.patchAnswering, patch.text, MAX_DATA_BYTES, true);
    if (written.refused) throw new ApiError(413, "payload_too_large", `session data is larger than ${MAX_DATA_BYTES} bytes`);
    if (!written.row) throw tokenNotFound();
    return saved(token.id, written, JSON.parse(written.row.data), patch.keys);
  },
  async renew(request, c) {
    const token = sessionToken(request);
    if (!token) throw tokenNotFound();
    const row = await c.db
      .prepare(SQL.setExpiry)
      .bind(token.id, await sha256(token.secret), c.idle, c.absolute)
      .first();
    if (!row) throw tokenNotFound();
    const expiresAt = iso(row.expires_at);
    log({ signal: "session_renewed", sessionId: token.id, expiresAt });
    return [200, { id: token.id, expiresAt }];
  },
  async rotate(request, c) {
    const token = sessionToken(request);
    const text = await readBody(request, ROTATE_BODY_LIMIT, true, JSON_MEDIA);
    const body = text.trim() === "" ? {} : parseJson(text);
    if (!isObject(body)) throw invalidArgument('the body must be a JSON object: { "userId"? }');
    const userId = checkUserId(body.userId);
    if (!token) throw tokenNotFound();
    const fresh = newSecret();
    const [hash, freshHash] = await Promise.all([sha256(token.secret), sha256(fresh)]);
    const statement =
      userId === null
        ? c.db.prepare(SQL.rotate).bind(token.id, hash, freshHash, c.idle, c.absolute)
        : c.db.prepare(SQL.rotateToUser).bind(token.id, hash, freshHash, userId, c.idle, c.absolute);
    const row = await statement.first();
    if (!row) throw tokenNotFound();
    log({ signal: "session_rotated", sessionId: token.id, userId: row.user_id });
    return [200, { id: token.id, token: `${token.id}.${fresh}`, userId: row.user_id, expiresAt: iso(row.expires_at) }];
  },
  async delete(request, c) {
    const token = sessionToken(request);
    if (!token) throw tokenNotFound();
    const { meta } = await c.db
      .prepare(SQL.delete)
      .bind(token.id, await sha256(token.secret))
      .run();
    if (meta.changes === 0) throw tokenNotFound();
    log({ signal: "session_deleted", sessionId: token.id });
    return [204];
  },
  async find(request, c, id) {
    const row = ID.test(id) ? await c.db.prepare(SQL.find).bind(id).first() : null;
    if (!row) throw notFound("no live session has this id");
    return [200, listed({ ...row, id }, row.user_id)];
  },
  async revoke(request, c, id) {
    const changes = ID.test(id) ? (await c.db.prepare(SQL.revoke).bind(id).run()).meta.changes : 0;
    if (changes === 0) throw notFound("no live session has this id");
    log({ signal: "session_deleted", sessionId: id });
    return [204];
  },
  async listUser(request, c, segment) {
    const user = checkUserId(decodeSegment(segment));
    const { results } = await c.db.prepare(SQL.listUser).bind(user).all();
    return [200, { sessions: results.map((row) => listed(row, user)) }];
  },
  async revokeUser(request, c, segment, url) {
    const user = checkUserId(decodeSegment(segment));
    const except = url.searchParams.get("except");
    if (except !== null && !ID.test(except)) throw invalidArgument("except must be a session's public id");
    const { results } = await c.db
      .prepare(SQL.deleteUser)
      .bind(user, except ?? "")
      .all();
    for (const row of results) log({ signal: "session_deleted", sessionId: row.id });
    return [200, { revoked: results.length }];
  },
};

async function serve(request, env, url) {
  // Only /health is served without the bearer, so routes are not revealed to strangers.
  if (url.pathname === "/health") {
    route(request.method, url.pathname);
    return [200, { status: "ok" }];
  }
  authorize(env.API_TOKEN, request.headers.get("authorization"));
  const [name, segment] = route(request.method, url.pathname);
  return handlers[name](request, config(env), segment, url);
}

export default {
  async fetch(request, env) {
    const head = request.method === "HEAD";
    const url = new URL(request.url);
    try {
      const [status, body, headers] = await serve(request, env, url);
      return respond(status, body, head, headers);
    } catch (error) {
      const e =
        error instanceof ApiError ? error : new ApiError(503, "db_error", "the database failed", { detail: `database error: ${error?.message ?? error}` });
      if (e.detail) log({ failure: e.code, status: e.status, detail: e.detail });
      const headers = { Allow: e.allow, "WWW-Authenticate": e.status === 401 ? "Bearer" : undefined };
      return respond(e.status, { error: { code: e.code, message: e.message } }, head, headers);
    }
  },
};
