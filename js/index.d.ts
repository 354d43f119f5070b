/**
 * The D1 binding the manager stores sessions in. Any object with D1's `prepare` and `batch`
 * will do; a Workers `D1Database` binding (`env.DB`) is one.
 */
export interface D1Binding {
  prepare(query: string): unknown;
  batch(statements: unknown[]): Promise<unknown[]>;
}

export interface SessionManagerOptions {
  /** Session lifetime in seconds: a whole number from 1 to 3,153,600,000 (100 years). Default 86400. */
  timeout?: number;
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
   * `db_error` (a binding whose promise never settles). 1 to 600,000. Default 60,000.
   */
  operationTimeout?: number;
}

/** Session data: a JSON object. */
export type SessionData = Record<string, unknown>;

export interface Session<D extends SessionData = SessionData> {
  /** A UUID v4 from the platform CSPRNG. */
  id: string;
  userId: string | null;
  data: D;
  createdAt: Date;
  expiresAt: Date;
}

export type SessionErrorCode =
  | "invalid_argument"
  | "invalid_data"
  | "payload_too_large"
  | "db_error"
  | "internal";

/** What every rejected promise of a `SessionManager` carries. */
export interface SessionError extends Error {
  name: "SessionError";
  /** Stable: branch on this, not on the message. */
  code: SessionErrorCode;
}

export interface SessionEventDetailMap {
  session_manager_initialized: { timeout: number };
  session_created: { sessionId: string; userId: string | null };
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
  session_data_saved: { sessionId: string; savedKeys: string[] };
  session_data_save_failed: {
    sessionId: string;
    reason:
      | "not_found"
      | "serialization_error_or_db_error"
      | "payload_too_large"
      | "invalid_argument"
      | "internal";
    exception?: SessionError;
  };
}

export type SessionEventType = keyof SessionEventDetailMap;

/** The event a listener receives: `target` is the manager, `detail` as in the map. */
export interface SessionEvent<K extends SessionEventType> extends CustomEvent<SessionEventDetailMap[K]> {
  readonly type: K;
  readonly target: SessionManager;
}

export declare class SessionManager extends EventTarget {
  /**
   * @throws {TypeError} when `db` is not a D1 binding or an option has the wrong type.
   * @throws {RangeError} when an option is out of range.
   */
  constructor(db: D1Binding, options?: SessionManagerOptions);

  /** Resolves once `session_manager_initialized` has been dispatched. */
  readonly ready: Promise<void>;

  /** Creates a session for `userId` (1 to 256 characters) or an anonymous one. */
  createSession<D extends SessionData = SessionData>(
    userId?: string | null,
    data?: D,
  ): Promise<Session<D>>;
  /** The whole live session, or `null` when missing or expired. */
  getSession<D extends SessionData = SessionData>(id: string): Promise<Session<D> | null>;
  /** The live session's data, or `null` when missing or expired. */
  getSessionData<D extends SessionData = SessionData>(id: string): Promise<D | null>;
  /** Replaces the data: `true` when saved, `false` when missing or expired. */
  saveSessionData(id: string, data: SessionData): Promise<boolean>;
  /** Extends to now + timeout and returns the new expiry; `null` when missing or expired. */
  renewSession(id: string): Promise<Date | null>;
  /** `true` when a live session was deleted, `false` when not found. */
  deleteSession(id: string): Promise<boolean>;
  /** Deletes up to `limit` (default 1000, at most 10000) expired sessions; resolves how many. */
  purgeExpired(limit?: number): Promise<number>;

  addEventListener<K extends SessionEventType>(
    type: K,
    listener: (event: SessionEvent<K>) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends SessionEventType>(
    type: K,
    listener: (event: SessionEvent<K>) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}
