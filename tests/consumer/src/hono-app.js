import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { SessionManager } from "d1-session-manager";
import { sessions } from "d1-session-manager/hono";

const app = new Hono();
app.use(csrf());   // refuses cross-origin form posts, login included (see CSRF below)
app.use(sessions((c) => new SessionManager(c.env.DB, { timeout: 3600 })));
app.onError((e, c) => {
  if (e instanceof HTTPException) return e.getResponse();   // csrf's 403, say
  // D1 down or too slow: "try again", never "signed out" (the cookie is kept).
  if (e.code === "db_error") return c.text("try again", 503, { "Retry-After": "5" });
  return c.text("error", 500);
});
app.post("/login", async (c) => { await c.get("session").login("user-42"); return c.text("ok"); });
app.get("/me", async (c) => c.json(await c.get("session").get()));
app.post("/cart", async (c) => { await c.get("session").patch({ ["item-" + crypto.randomUUID()]: 1 }); return c.text("ok"); });
app.post("/logout", async (c) => { await c.get("session").logout(); return c.text("bye"); });
app.post("/logout-everywhere", async (c) => c.text(`ended ${await c.get("session").logoutEverywhere()}`));
export default app;
