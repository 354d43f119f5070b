// Compiled with `tsc --noEmit` against the installed package: the hand-written types accept
// what the README shows and reject what the API rejects. Each `@ts-expect-error` must fail
// to type-check, so a type that grows too loose breaks the build.
import {
  SessionManager,
  type CreatedSession,
  type D1Binding,
  type RotatedSession,
  type Session,
  SessionError,
  type SignalName,
  type SessionManagerOptions,
  type SessionSummary,
} from "d1-session-manager";
import { cookieSession, type SessionHandle } from "d1-session-manager/cookie";

declare const db: D1Binding;

const sessions = new SessionManager(db, { timeout: 3600, rolling: true, maxDataBytes: 10_000 });
const options: SessionManagerOptions = { timeout: 3600, absoluteTimeout: 86_400 * 30 };
const bounded = new SessionManager(db, options);
void bounded;

sessions.addEventListener("session_renewed", (e) => {
  const until: Date = e.detail.expiresAt;
  const id: string = e.detail.sessionId;
  const manager: SessionManager = e.target;
  void [until, id, manager];
});
sessions.addEventListener("session_created", (e) => {
  const user: string | null = e.detail.userId;
  void user;
});
sessions.addEventListener("session_data_retrieved", (e) => {
  const keys: string[] = e.detail.dataKeys;
  void keys;
});
sessions.addEventListener("session_creation_failed", (e) => {
  const code: SessionError["code"] = e.detail.exception.code;
  void code;
});
sessions.addEventListener("session_data_save_failed", (e) => {
  const error: SessionError | undefined = e.detail.exception;
  void error;
});
sessions.addEventListener("session_manager_initialized", (e) => {
  const seconds: number = e.detail.timeout;
  void seconds;
});
sessions.addEventListener("session_rotated", (e) => {
  const id: string = e.detail.sessionId;
  const user: string | null = e.detail.userId;
  void [id, user];
});
sessions.addEventListener("session_rotation_failed", (e) => {
  const reason: "not_found" | SessionError["code"] = e.detail.reason;
  void reason;
});
// @ts-expect-error: session_deleted carries only the session id
sessions.addEventListener("session_deleted", (e) => e.detail.expiresAt);
// @ts-expect-error: a renewal's expiry is a Date, not a string
sessions.addEventListener("session_renewed", (e) => e.detail.expiresAt.startsWith("2026"));
// @ts-expect-error: no event carries a token
sessions.addEventListener("session_rotated", (e) => e.detail.token);
// @ts-expect-error: a misspelled signal is no event of the manager's, whatever the listener
sessions.addEventListener("session_create", () => {});
// @ts-expect-error: nor is any other name
sessions.removeEventListener("sesion_deleted", () => {});
// Still an EventTarget, for code that takes one.
const target: EventTarget = sessions;
sessions.addEventListener("session_deleted", { handleEvent: (e) => void e.detail.sessionId });
void target;

const types: SignalName[] = ["session_manager_initialized", "session_data_save_failed", "session_rotated"];
// @ts-expect-error: not one of the thirteen signals
const unknownType: SignalName = "session_expired";
void [types, unknownType];

export async function readme(): Promise<void> {
  await sessions.ready;
  const s: CreatedSession<{ cart: number[] }> = await sessions.createSession("user-42", { cart: [] });
  const token: string = s.token;
  const id: string = s.id;
  const created: Date = s.createdAt;
  // A created session is a session too.
  const asSession: Session<{ cart: number[] }> = s;
  const data = await sessions.getSessionData<{ cart: number[] }>(token);
  const cart: number[] | undefined = data?.cart;
  const whole: Session | null = await sessions.getSession(token);
  // @ts-expect-error: getSession never answers the token
  void whole?.token;
  const saved: boolean = await sessions.saveSessionData(token, { cart: [7] });
  const until: Date | null = await sessions.renewSession(token);
  const rotated: RotatedSession | null = await sessions.rotateSession(token, { userId: "user-42" });
  const next: string | undefined = rotated?.token;
  const rotatedUntil: Date | undefined = rotated?.expiresAt;
  await sessions.rotateSession(token);
  await sessions.rotateSession(token, {});
  await sessions.rotateSession(token, { userId: null });
  const listed: SessionSummary[] = await sessions.listUserSessions("user-42");
  const first: SessionSummary | undefined = listed[0];
  const listedAt: Date | undefined = first?.createdAt;
  const revoked: boolean = await sessions.revokeSession(id);
  const count: number = await sessions.revokeUserSessions("user-42", { except: id });
  await sessions.revokeUserSessions("user-42");
  const deleted: boolean = await sessions.deleteSession(token);
  const purged: number = await sessions.purgeExpired(100);
  await sessions.createSession();
  await sessions.createSession(null, {});
  void [created, asSession, cart, whole, saved, until, next, rotatedUntil, listedAt, revoked, count, deleted, purged];

  // Versions, compare-and-swap, patches.
  const version: number = s.version;
  const cas: boolean = await sessions.saveSessionData(token, { cart: [] }, { ifVersion: version });
  const patched: boolean = await sessions.patchSessionData(token, { cart: null, flag: true });
  const updated: { count: number } | null = await sessions.updateSessionData<{ count: number }>(token, (data) => ({ count: data.count + 1 }), { retries: 10 });
  await sessions.updateSessionData(token, async (data) => ({ ...data }));
  sessions.addEventListener("session_data_saved", (e) => {
    const after: number = e.detail.version;
    void after;
  });
  void [cas, patched, updated];
  // @ts-expect-error: ifVersion is a number
  await sessions.saveSessionData(token, {}, { ifVersion: "1" });
  // @ts-expect-error: update returns the new object
  await sessions.updateSessionData(token, () => 5);

  // @ts-expect-error: a user id is a string or null
  await sessions.createSession(42);
  // @ts-expect-error: session data is an object, not an array
  await sessions.saveSessionData(token, [1, 2]);
  // @ts-expect-error: the timeout is a number of seconds
  new SessionManager(db, { timeout: "1h" });
  // @ts-expect-error: so is the absolute timeout
  new SessionManager(db, { absoluteTimeout: "30d" });
  // @ts-expect-error: a listed session has no data
  void first?.data;
  // @ts-expect-error: nor a token
  void first?.token;
  // @ts-expect-error: a rotated session's user is given as userId, a string
  await sessions.rotateSession(token, { userId: 42 });
  // @ts-expect-error: listing needs a user id
  await sessions.listUserSessions();
  // @ts-expect-error: except is a public id, a string
  await sessions.revokeUserSessions("user-42", { except: 7 });
  // @ts-expect-error: a token is a string
  await sessions.getSessionData(s);
}

// Data declared with an interface (no index signature) is accepted, and types the writes.
interface Cart {
  items: number[];
  owner?: string;
}

export async function typedData(token: string): Promise<void> {
  const created = await sessions.createSession<Cart>(null, { items: [] });
  const items: number[] = created.data.items;
  await sessions.saveSessionData<Cart>(token, { items: [1] });
  // @ts-expect-error: the data's type is checked
  await sessions.saveSessionData<Cart>(token, { items: ["one"] });
  const cart: Cart | null = await sessions.getSessionData<Cart>(token);
  await sessions.updateSessionData<Cart>(token, (c) => ({ ...c, items: [...c.items, 2] }));
  await sessions.patchSessionData(token, { owner: null });
  // @ts-expect-error: a patch is an object too
  await sessions.patchSessionData(token, [1]);
  void [items, cart];

  // A misspelled signal: its listener gets a plain Event, so reading `detail` is an error.
  // @ts-expect-error: "sesion_created" is no signal
  sessions.addEventListener("sesion_created", (e) => e.detail.sessionId);

  // SessionError is a class: `instanceof` narrows a caught value.
  try {
    await sessions.getSession(token);
  } catch (e) {
    if (e instanceof SessionError) {
      const code: "conflict" | "db_error" | string = e.code;
      void code;
    }
  }

  // A login on another user's session is refused with its own code, to branch on.
  try {
    await sessions.rotateSession(token, { userId: "bob" });
  } catch (e) {
    if (e instanceof SessionError && e.code === "user_mismatch") await sessions.deleteSession(token);
  }
}

// The cookie helper: a handle typed by the session's data.
export async function cookies(request: Request): Promise<Response> {
  const session: SessionHandle<Cart> = cookieSession<Cart>(sessions, request, { sameSite: "strict" });
  const cart: Cart | null = await session.get();
  await session.patch({ owner: "me" });
  const next: Cart = await session.update((c) => ({ ...c, items: [...c.items, 3] }));
  await session.login("user-42");
  // @ts-expect-error: sameSite is lax, strict or none
  cookieSession(sessions, request, { sameSite: "always" });
  void [cart, next];
  return session.commit(new Response("ok"));
}

// Read replicas: the option, the bookmark carried between requests, and reads of the latest state.
export async function replicas(request: Request, token: string): Promise<Response> {
  const m = new SessionManager(db, { replicas: true, bookmark: request.headers.get("d1-bookmark") });
  const fresh: Cart | null = await m.getSessionData<Cart>(token, { latest: true });
  await m.listUserSessions("user-42", { latest: false });
  const bookmark: string | null = m.bookmark;
  m.bookmark = null;
  // @ts-expect-error: a bookmark is a string
  m.bookmark = 7;
  // @ts-expect-error: latest is a boolean
  await m.findSession("id", { latest: "yes" });
  void fresh;
  return new Response(null, { headers: bookmark ? { "d1-bookmark": bookmark } : {} });
}
