// Uses of the generated types that must not compile: each line below is an error tsc must
// find (`@ts-expect-error` fails the build when it finds none). They keep the types from
// silently widening to `any`. Compiled only, never run.
import type { components } from "./openapi.d.ts";
import type { sessionsClient } from "./session-client.ts";

export async function misuses(client: ReturnType<typeof sessionsClient>, session: components["schemas"]["Session"]) {
  // @ts-expect-error: the session routes take the token in the Session-Token header.
  await client.GET("/session", {});
  // @ts-expect-error: no such route (the token routes of the old API are gone).
  await client.GET("/sessions/{id}/data", { params: { path: { id: session.id } } });
  // @ts-expect-error: data is a JSON object, not an array.
  await client.PUT("/session/data", { params: { header: { "Session-Token": "t" } }, body: [7] });
  // @ts-expect-error: a session's data values are unknown until checked.
  session.data.cart.length;
  // @ts-expect-error: a session read by public id has no data.
  (await client.GET("/sessions/{id}", { params: { path: { id: session.id } } })).data?.data;
}
