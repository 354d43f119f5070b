import type { Session, SessionData, SessionManager } from "./index.js";

export interface CookieOptions {
  /** Default `__Host-session` when the cookie is secure, else `session`. */
  name?: string;
  /** Default `true`. Browsers keep a Secure cookie on `http://localhost` too. */
  secure?: boolean;
  /** Default `"lax"`; `"none"` needs `secure`. */
  sameSite?: "lax" | "strict" | "none";
  /** Default `"/"` (a `__Host-` cookie must keep it). */
  path?: string;
  /** Default none (a `__Host-` cookie must have none). */
  domain?: string;
  /** Default `true`: scripts in the page cannot read the token. */
  httpOnly?: boolean;
}

/** One request's session, read from its cookie when first asked for. */
export interface SessionHandle<D extends object = SessionData> {
  /** The data, or `null` when there is no live session. */
  get(): Promise<D | null>;
  getSession(): Promise<Session<D> | null>;
  /** An RFC 7396 merge patch; creates an anonymous session first when there is none. */
  patch(patch: object): Promise<true>;
  /** A version-checked read-modify-write; creates a session when there is none. */
  update(update: (data: D) => D | Promise<D>, options?: { retries?: number }): Promise<D>;
  /**
   * Binds an anonymous session (or the user's own) to the user with a new secret (the old
   * token dies, the data is kept); another user's session is ended and a fresh one made.
   * No token in the answer: the cookie carries it.
   */
  login(userId: string): Promise<{ id: string; userId: string | null; expiresAt: Date }>;
  /** Deletes the session and clears the cookie. */
  logout(): Promise<boolean>;
  /** Revokes every session of this session's user, this one included; how many. */
  logoutEverywhere(): Promise<number>;
  /** `response` with the `Set-Cookie` the request needs; the same response when nothing changed. */
  commit(response: Response): Response;
}

/**
 * A maker of session handles with `options` checked once, for a caller that makes one per
 * request.
 * @throws {TypeError | RangeError} for cookie options browsers would refuse.
 */
export declare function cookieSessions<D extends object = SessionData>(
  options?: CookieOptions,
): (manager: SessionManager, request: Request) => SessionHandle<D>;

/**
 * A session handle for `request`: no D1 call until it is asked for the session.
 * @throws {TypeError | RangeError} for cookie options browsers would refuse.
 */
export declare function cookieSession<D extends object = SessionData>(manager: SessionManager, request: Request, options?: CookieOptions): SessionHandle<D>;
