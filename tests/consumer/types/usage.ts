// Compiled with `tsc --noEmit` against the installed package: the hand-written types accept
// what the README shows and reject what the API rejects. Each `@ts-expect-error` must fail
// to type-check, so a type that grows too loose breaks the build.
import {
  SessionManager,
  type D1Binding,
  type Session,
  type SessionError,
  type SessionEventType,
} from "d1-session-manager";

declare const db: D1Binding;

const sessions = new SessionManager(db, { timeout: 3600, rolling: true, maxDataBytes: 10_000 });

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
// @ts-expect-error: session_deleted carries only the session id
sessions.addEventListener("session_deleted", (e) => e.detail.expiresAt);
// @ts-expect-error: a renewal's expiry is a Date, not a string
sessions.addEventListener("session_renewed", (e) => e.detail.expiresAt.startsWith("2026"));

const types: SessionEventType[] = ["session_manager_initialized", "session_data_save_failed"];
// @ts-expect-error: not one of the eleven signals
const unknownType: SessionEventType = "session_expired";
void [types, unknownType];

export async function readme(): Promise<void> {
  await sessions.ready;
  const s: Session<{ cart: number[] }> = await sessions.createSession("user-42", { cart: [] });
  const created: Date = s.createdAt;
  const data = await sessions.getSessionData<{ cart: number[] }>(s.id);
  const cart: number[] | undefined = data?.cart;
  const whole: Session | null = await sessions.getSession(s.id);
  const saved: boolean = await sessions.saveSessionData(s.id, { cart: [7] });
  const until: Date | null = await sessions.renewSession(s.id);
  const deleted: boolean = await sessions.deleteSession(s.id);
  const purged: number = await sessions.purgeExpired(100);
  await sessions.createSession();
  await sessions.createSession(null, {});
  void [created, cart, whole, saved, until, deleted, purged];

  // @ts-expect-error: a user id is a string or null
  await sessions.createSession(42);
  // @ts-expect-error: session data is an object, not an array
  await sessions.saveSessionData(s.id, [1, 2]);
  // @ts-expect-error: the timeout is a number of seconds
  new SessionManager(db, { timeout: "1h" });
}
