// The README example, as a user writes it.
import { SessionManager } from "d1-session-manager";

export default {
  async fetch(request, env) {
    const sessions = new SessionManager(env.DB, { timeout: 3600 });
    const seen = [];
    for (const type of ["session_manager_initialized", "session_created", "session_data_retrieved", "session_data_saved", "session_deleted"]) {
      sessions.addEventListener(type, (e) => {
        seen.push({ type: e.type, detail: e.detail });
      });
    }
    // The token goes to the client (in a cookie, say); the id is safe to log.
    const s = await sessions.createSession("user-42", { cart: [] });
    const data = await sessions.getSessionData(s.token);
    await sessions.saveSessionData(s.token, { cart: [7] });
    const saved = await sessions.getSessionData(s.token);
    const deleted = await sessions.deleteSession(s.token);
    return Response.json({ id: s.id, data, saved, deleted, seen });
  },
};
