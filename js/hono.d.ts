import type { MiddlewareHandler, Context } from "hono";
import type { SessionData, SessionManager } from "./index.js";
import type { CookieOptions, SessionHandle } from "./cookie.js";

declare module "hono" {
  interface ContextVariableMap {
    /** The request's session handle, set by `sessions(...)`. */
    session: SessionHandle<SessionData>;
  }
}

/**
 * A middleware that puts a session handle at `c.get("session")` and commits its cookie to
 * the response after the handler. `D` types the data: `sessions<Cart>(...)` on a chained
 * app, or `new Hono<{ Variables: { session: SessionHandle<Cart> } }>()`, makes
 * `c.get("session")` a `SessionHandle<Cart>`.
 * @throws {TypeError | RangeError} for cookie options browsers would refuse.
 */
export declare function sessions<D extends object = SessionData>(
  managerFor: (c: Context) => SessionManager,
  options?: CookieOptions,
): MiddlewareHandler<{ Variables: { session: SessionHandle<D> } }>;
