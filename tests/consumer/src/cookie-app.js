import { SessionManager } from "d1-session-manager";
import { cookieSession } from "d1-session-manager/cookie";

export default {
  async fetch(request, env) {
    const session = cookieSession(new SessionManager(env.DB), request);   // no D1 call yet
    const url = new URL(request.url);
    try {
      // Writes only on POST from this site's own pages (see CSRF below).
      if (request.method === "POST") {
        if (request.headers.get("Origin") !== url.origin) return new Response("forbidden", { status: 403 });
        if (url.pathname === "/login") await session.login("user-42");     // after checking a password
        if (url.pathname === "/cart") await session.patch({ ["item-" + crypto.randomUUID()]: 1 });
        if (url.pathname === "/logout") await session.logout();
      }
      return session.commit(Response.json(await session.get()));         // Set-Cookie when needed
    } catch (e) {
      // D1 down or too slow: "try again", never "signed out" (the cookie is kept).
      if (e.code === "db_error") return new Response("try again", { status: 503, headers: { "Retry-After": "5" } });
      throw e;
    }
  },
};
