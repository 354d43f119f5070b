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

// The data typed: on a chained app by the middleware's parameter...
interface Cart {
  items: string[];
}
const shop = new Hono().use(sessions<Cart>(() => new SessionManager(db)));
shop.get("/cart", async (c) => {
  const cart: Cart | null = await c.get("session").get();
  await c.get("session").update((data) => ({ items: [...data.items, "one"] }));
  // @ts-expect-error: the data is a Cart, with no such key
  void (await c.get("session").get())?.total;
  // @ts-expect-error: an item is a string
  await c.get("session").update(() => ({ items: [1] }));
  return c.json(cart);
});

// ...or by the app's own Variables.
const typed = new Hono<{ Variables: { session: SessionHandle<Cart> } }>();
typed.use(sessions<Cart>(() => new SessionManager(db)));
typed.get("/cart", async (c) => {
  const handle: SessionHandle<Cart> = c.get("session");
  const cart: Cart | null = await handle.get();
  // @ts-expect-error: not a handle of untyped data
  const loose: SessionHandle<{ other: number }> = c.get("session");
  void loose;
  return c.json(cart);
});

export default app;
