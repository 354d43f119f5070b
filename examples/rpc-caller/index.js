// Another Worker's view of the session service: the npm API's methods over RPC, with no
// token to keep (the binding is the credential) and results as the package gives them.
export default {
  async fetch(request, env) {
    const s = await env.SESSIONS.createSession("user-42", { cart: [] });
    await env.SESSIONS.patchSessionData(s.token, { cart: [7] });
    const session = await env.SESSIONS.getSession(s.token); // expiresAt is a Date
    let refused;
    try {
      await env.SESSIONS.createSession(42);
    } catch (e) {
      refused = e.message; // "invalid_argument: ..."
    }
    await env.SESSIONS.deleteSession(s.token);
    return Response.json({ data: session.data, expiresIsDate: session.expiresAt instanceof Date, refused });
  },
};
