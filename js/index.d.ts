/**
 * The D1 binding the manager stores sessions in. Any object with D1's `prepare` and `batch`
 * will do; a Workers `D1Database` binding (`env.DB`) is one.
 */
export interface D1Binding {
  prepare(query: string): unknown;
  batch(statements: unknown[]): Promise<unknown[]>;
  /** The D1 Sessions API, which the option `replicas` uses. */
  withSession?(constraintOrBookmark?: string): {
    prepare(query: string): unknown;
    batch(statements: unknown[]): Promise<unknown[]>;
    getBookmark(): string | null;
  };
}

export interface SessionManagerOptions {
  /**
   * The idle timeout in seconds: a session lives this long after its creation or last
   * renewal. A whole number from 1 to 3,153,600,000 (100 years). Default 86400.
   */
  timeout?: number;
  /**
   * The absolute timeout in seconds: no session lives past its creation + this, whatever
   * renews it (rolling renewal, `renewSession`, `rotateSession`). Validated like `timeout`,
   * and not below it. Default: no absolute limit.
   */
  absoluteTimeout?: number;
  /**
   * Extend a session to a full `timeout` when a read or save finds less than half of it
   * left. Default `true`.
   */
  rolling?: boolean;
  /** The most UTF-8 bytes a session's data may take as JSON, 1 to 1,900,000. Default 1,000,000. */
  maxDataBytes?: number;
  /** The sessions table: a plain SQL identifier. Default `"sessions"`. */
  tableName?: string;
  /**
   * How long, in milliseconds, an operation waits on one D1 call before it fails with
   * `db_error` (a binding whose promise never settles). 1 to 600,000. Default 5,000: a stalled D1 is answered as unavailable, not waited out.
   */
  operationTimeout?: number;
  /**
   * Read through D1's read replicas (the Sessions API, `db.withSession`). Reads may then be
   * served by a replica; every write, and a read given `{ latest: true }`, starts at the
   * primary. Needs a binding with `withSession`. Default `false`: every query goes to the
   * binding itself, as without replicas.
   */
  replicas?: boolean;
  /**
   * With `replicas`, the bookmark the client brought back from its previous request
   * (`manager.bookmark` then): its reads see at least that state. 1 to 1,024 characters.
   */
  bookmark?: string | null;
}

/** Options of a read: `latest` reads the primary's state (with `replicas`; no effect without). */
export interface ReadOptions {
  latest?: boolean;
}

/** Session data: a JSON object. Data declared with an `interface` is accepted too. */
export type SessionData = Record<string, unknown>;

/** `D`, unless it is an array: session data is an object (arrays are refused at run time). */
export type NotArray<D> = D extends readonly unknown[] ? never : D;

export interface Session<D extends object = SessionData> {
  /** The public id: a UUID v4 from the platform CSPRNG. Safe to log and to show. */
  id: string;
  userId: string | null;
  data: D;
  createdAt: Date;
  expiresAt: Date;
  /**
   * 1 at creation, raised by every data write (save, patch; see docs/api.md), not by a renewal or a
   * rotation. Pass it back as `ifVersion` to save only if no one wrote since.
   */
  version: number;
}

/**
 * A new session with its token, `<id>.<secret>`: the credential its holder presents (in a
 * cookie, say). Only `createSession` and `rotateSession` ever reveal one; the database keeps
 * only the SHA-256 of the secret.
 */
export interface CreatedSession<D extends object = SessionData> extends Session<D> {
  token: string;
}

/** A session after `rotateSession`: its new token. */
export interface RotatedSession {
  id: string;
  token: string;
  userId: string | null;
  expiresAt: Date;
}

/** A session as `listUserSessions` lists it: no data, no token. */
export interface SessionSummary {
  id: string;
  userId: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export type SessionErrorCode = "invalid_argument" | "invalid_data" | "payload_too_large" | "conflict" | "user_mismatch" | "db_error" | "internal";

/** What every rejected promise of a `SessionManager` carries: `err instanceof SessionError`. */
export declare class SessionError extends Error {
  private constructor();
  readonly name: "SessionError";
  /** Stable: branch on this, not on the message. */
  readonly code: SessionErrorCode;
}

/**
 * A listener's options, declared here so the types need neither the DOM library nor a
 * particular version of `@cloudflare/workers-types`.
 */
export interface ListenerOptions {
  capture?: boolean;
  once?: boolean;
  passive?: boolean;
  signal?: AbortSignal;
}

export interface SignalDetailMap {
  session_manager_initialized: { timeout: number };
  session_created: { sessionId: string; userId: string | null };
  /** A refused `userId` is described by its type and length, never quoted. */
  session_creation_failed: { userId: string | null; exception: SessionError };
  session_renewed: { sessionId: string; expiresAt: Date };
  session_renewal_failed: { sessionId: string; reason: "not_found" | SessionErrorCode };
  session_deleted: { sessionId: string };
  session_deletion_failed: { sessionId: string; reason: "not_found" | SessionErrorCode };
  session_data_retrieved: { sessionId: string; dataKeys: string[] };
  session_data_retrieval_failed: {
    sessionId: string;
    reason: "not_found_or_expired" | SessionErrorCode;
  };
  session_data_saved: { sessionId: string; savedKeys: string[]; version: number };
  session_data_save_failed: {
    sessionId: string;
    reason: "not_found" | "serialization_error_or_db_error" | "payload_too_large" | "conflict" | "invalid_argument" | "internal";
    exception?: SessionError;
  };
  session_rotated: { sessionId: string; userId: string | null };
  session_rotation_failed: { sessionId: string; reason: "not_found" | SessionErrorCode };
}

export type SignalName = keyof SignalDetailMap;

/** A listener for signal `K`: a function or an object with `handleEvent`. */
export type SignalListener<K extends SignalName> = ((event: SessionEvent<K>) => void) | { handleEvent(event: SessionEvent<K>): void };

/** The event a listener receives: `target` is the manager, `detail` as in the map. */
export interface SessionEvent<K extends SignalName> extends CustomEvent<SignalDetailMap[K]> {
  readonly type: K;
  readonly target: SessionManager;
}

export declare class SessionManager extends EventTarget {
  /**
   * @throws {TypeError} when `db` is not a D1 binding or an option has the wrong type.
   * @throws {RangeError} when an option is out of range.
   */
  /**
   * `db`: a D1 binding, or several as shards (`[env.SESSIONS_0, env.SESSIONS_1, ...]`): each
   * session lives on one, named by its id; new ones spread evenly. Only ever append a shard:
   * an id names its shard by its place in the list.
   */
  constructor(db: D1Binding | readonly D1Binding[], options?: SessionManagerOptions);

  /** Resolves once `session_manager_initialized` has been dispatched. */
  readonly ready: Promise<void>;

  /**
   * With `replicas`, the newest D1 bookmark this manager's operations have seen (`null`
   * before any): hand it to the client, and pass it back as the option `bookmark` on its
   * next request. Settable, for a bookmark known only after construction.
   */
  bookmark: string | null;

  /**
   * Creates a session for `userId` (1 to 256 characters, not shaped like a token) or an
   * anonymous one, with its token.
   */
  createSession<D extends object = SessionData>(userId?: string | null, data?: NotArray<D>): Promise<CreatedSession<D>>;
  /** The whole live session the token opens, or `null` when missing, expired or a wrong token. */
  getSession<D extends object = SessionData>(token: string, options?: ReadOptions): Promise<Session<D> | null>;
  /** The live session's data, or `null` when not found. */
  getSessionData<D extends object = SessionData>(token: string, options?: ReadOptions): Promise<D | null>;
  /**
   * Replaces the data: `true` when saved, `false` when not found. With `ifVersion`, only if
   * the session's version is still that one, checked in the same write; otherwise nothing is
   * written and it rejects with code `conflict`.
   */
  saveSessionData<D extends object = SessionData>(token: string, data: NotArray<D>, options?: { ifVersion?: number }): Promise<boolean>;
  /**
   * Applies an RFC 7396 merge patch on the database in one write: each key replaces the
   * stored one, `null` removes it, objects merge. Concurrent patches of different keys never
   * lose one another. `true` when applied, `false` when not found; `payload_too_large` when
   * the result would be over `maxDataBytes` (nothing is written).
   */
  patchSessionData<P extends object>(token: string, patch: NotArray<P>): Promise<boolean>;
  /**
   * Reads the data, calls `update(data)` for the new object, and saves it only if no one
   * wrote since the read; on a conflict, reads and tries again, at most `retries` (default
   * 5, at most 100) more times. Resolves the saved data; `null` when not found; rejects with
   * `conflict` when the retries run out. `update` may be called more than once.
   */
  updateSessionData<D extends object = SessionData>(token: string, update: (data: D) => D | Promise<D>, options?: { retries?: number }): Promise<D | null>;
  /**
   * Extends to now + timeout (never past the absolute limit: at the limit it resolves the
   * unchanged expiry) and returns the expiry; `null` when not found.
   */
  renewSession(token: string): Promise<Date | null>;
  /**
   * Gives the session a new secret, so a new token; the old one stops working at once. With
   * `userId`, also binds the session to that user (do this at login). Renews it too. `null`
   * when not found. A session bound to another user is never handed over: it rejects with
   * `user_mismatch` and nothing is written (delete it and create one for the new user).
   */
  rotateSession(token: string, options?: { userId?: string | null }): Promise<RotatedSession | null>;
  /** `true` when a live session was deleted, `false` when not found. */
  deleteSession(token: string): Promise<boolean>;
  /**
   * The live session with this public id, without its data or token (for trusted server
   * code: a device's details); `null` when there is none. Raises no signal.
   */
  findSession(id: string, options?: ReadOptions): Promise<SessionSummary | null>;
  /**
   * Deletes a live session by its public id (for trusted server code: "sign out that
   * device"). `true` when one was deleted.
   */
  revokeSession(id: string): Promise<boolean>;
  /** The user's live sessions, newest first, at most 100. */
  listUserSessions(userId: string, options?: ReadOptions): Promise<SessionSummary[]>;
  /**
   * Deletes every live session of the user, except the one whose public id is `except`;
   * resolves how many, with a `session_deleted` event for each.
   */
  revokeUserSessions(userId: string, options?: { except?: string | null }): Promise<number>;
  /** Deletes up to `limit` (default 1000, at most 10000) expired sessions; resolves how many. */
  purgeExpired(limit?: number): Promise<number>;

  /**
   * Only the signals are listened for: a misspelled type matches no overload, so it is a
   * type error rather than a listener that never runs.
   */
  addEventListener<K extends SignalName>(type: K, listener: SignalListener<K> | null, options?: boolean | ListenerOptions): void;
  /** `EventTarget`'s own form, kept so a manager is an `EventTarget`; no call can match it. */
  addEventListener(type: never, listener: unknown, options?: unknown): void;
  removeEventListener<K extends SignalName>(type: K, listener: SignalListener<K> | null, options?: boolean | Pick<ListenerOptions, "capture">): void;
  /** `EventTarget`'s own form, kept so a manager is an `EventTarget`; no call can match it. */
  removeEventListener(type: never, listener: unknown, options?: unknown): void;
}
