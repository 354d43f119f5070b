// A Hono middleware over the cookie helper: `c.get("session")` is the request's session
// handle, committed to the response after the handler. Hono is an optional peer dependency:
// only this entry needs it, and it imports nothing of Hono's at run time.
import { cookieSessions } from "./cookie.js";

/**
 * `managerFor(c)` gives the SessionManager for a request (one per request costs nothing:
 * constructing one makes no D1 call); `options` are the cookie's, checked here once.
 */
export function sessions(managerFor, options) {
  if (typeof managerFor !== "function") throw new TypeError("sessions(managerFor): managerFor must be a function of the context");
  // The cookie options are checked here, once, not on every request.
  const handleFor = cookieSessions(options);
  return async (c, next) => {
    const session = handleFor(managerFor(c), c.req.raw);
    c.set("session", session);
    await next();
    const committed = session.commit(c.res);
    if (committed === c.res) return;
    // Hono's `c.res` setter keeps the old response's Set-Cookie headers in place of the new
    // one's, which would drop the session's cookie: clear it first, so the committed copy
    // (every header of the app's, its cookies among them, and the session's) goes out whole.
    c.res = undefined;
    c.res = committed;
  };
}
