// The Hono middleware's types: `c.get("session")` is a session handle with no cast.
import { Hono } from "hono";
import { SessionManager, type D1Binding } from "d1-session-manager";
import type { SessionHandle } from "d1-session-manager/cookie";
import { sessions } from "d1-session-manager/hono";

declare const db: D1Binding;

const app = new Hono();
app.use(sessions(() => new SessionManager(db, { timeout: 3600 }), { sameSite: "lax" }));
app.get("/me", async (c) => {
  const session: SessionHandle = c.get("session");
  return c.json(await session.get());
});
app.post("/cart", async (c) => {
  await c.get("session").patch({ item: 1 });
  // @ts-expect-error: the handle has no such method
  await c.get("session").save({});
  return c.text("ok");
});
// @ts-expect-error: managerFor is a function of the context
sessions(new SessionManager(db));

export default app;
