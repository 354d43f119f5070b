// A shop a person uses in a browser: a cart before and after login, a theme cookie of the
// app's own beside the session's, log out here or everywhere, and a "try again" page, not a
// login form, when the database is out.
import { SessionManager } from "d1-session-manager";
import { sessions } from "d1-session-manager/hono";
import { Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { html } from "hono/html";
import { HTTPException } from "hono/http-exception";

const app = new Hono();
app.use(csrf());
app.use(sessions((c) => new SessionManager(c.env.DB, { timeout: 3600 })));

const layout = (c, body, status = 200) =>
  c.html(
    html`<!doctype html>
      <html class="${getCookie(c, "theme") ?? "light"}">
        <head><meta charset="utf-8" /><title>Shop</title></head>
        <body>${body}</body>
      </html>`,
    status,
  );

app.get("/", async (c) => {
  const session = await c.get("session").getSession();
  const cart = Object.values(session?.data.cart ?? {});
  const who = session?.userId ? html`<p id="who">Signed in as ${session.userId}</p>` : html`<p id="who">Not signed in</p>`;
  return layout(
    c,
    html`${who}
      <p id="cart">${cart.length} in your cart</p>
      <form method="post" action="/cart"><button id="add">Add an apple</button></form>
      <form method="post" action="/login">
        <input id="name" name="name" required /><button id="login">Log in</button>
      </form>
      <form method="post" action="/logout"><button id="logout">Log out</button></form>
      <form method="post" action="/logout-everywhere"><button id="everywhere">Log out everywhere</button></form>`,
  );
});

app.post("/cart", async (c) => {
  // One key per item: merge patches from two tabs never lose one another's.
  await c.get("session").patch({ cart: { [crypto.randomUUID()]: "apple" } });
  return c.redirect("/", 303);
});

app.post("/login", async (c) => {
  const { name } = await c.req.parseBody();
  // Check the password here. Then a new token bound to the user: the cart stays.
  await c.get("session").login(String(name));
  setCookie(c, "theme", "dark", { path: "/", sameSite: "Lax" });
  return c.redirect("/", 303);
});

app.post("/logout", async (c) => {
  await c.get("session").logout();
  return c.redirect("/", 303);
});

app.post("/logout-everywhere", async (c) => {
  await c.get("session").logoutEverywhere();
  return c.redirect("/", 303);
});

// The database out (or too slow): not "signed out". The cookie is left as it was.
app.onError((error, c) => {
  if (error instanceof HTTPException) return error.getResponse();
  if (error.code !== "db_error") return c.text("Something went wrong", 500);
  c.header("Retry-After", "5");
  return layout(c, html`<p id="unavailable">We could not reach your session. Try again in a moment.</p>`, 503);
});

export default app;
