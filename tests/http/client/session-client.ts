// A client of the HTTP API typed only by openapi.yaml: every path, parameter, body and answer
// below comes from the types openapi-typescript generates, with no cast. tsc checks it (the
// contract's types are usable as they are), and tests/http/client.test.js runs it against the
// Worker (they describe what the Worker answers).
import createClient from "openapi-fetch";
import type { paths } from "./openapi.d.ts";

export function sessionsClient(baseUrl: string, apiToken: string, fetch?: (request: Request) => Promise<Response>) {
  return createClient<paths>({ baseUrl, fetch, headers: { Authorization: `Bearer ${apiToken}` } });
}

type Client = ReturnType<typeof sessionsClient>;

/** What `roundTrip` saw at each step. */
export interface Trip {
  created: { cart: unknown; version: number; location: string | null };
  read: { cart: unknown; etag: string | null };
  saved: { cart: unknown; version: number };
  conflict: { status: number; code: string | undefined };
  patched: { cart: unknown; coupon: unknown; version: number };
  deleted: number;
  gone: { status: number; code: string | undefined };
}

/**
 * Creates a session holding `{ cart: [7] }`, reads it, saves over it with the `ETag` it read
 * as `If-Match` (and again with the stale one: 412), patches it, deletes it, and reads it
 * once more (404). Session data is an open object, so `.cart` reads as `unknown` without a
 * cast, and `{ cart: [7] }` is a valid body.
 */
export async function roundTrip(client: Client, userId: string): Promise<Trip> {
  const created = await client.POST("/sessions", { body: { userId, data: { cart: [7] } } });
  if (!created.data) throw new Error(`create: ${created.response.status}`);
  const session = { header: { "Session-Token": created.data.token } };

  const read = await client.GET("/session", { params: session });
  if (!read.data) throw new Error(`read: ${read.response.status}`);
  const etag = read.response.headers.get("ETag");

  const ifMatch = { header: { ...session.header, "If-Match": etag ?? "*" } };
  const saved = await client.PUT("/session/data", { params: ifMatch, body: { cart: [7, 8] } });
  if (!saved.data) throw new Error(`save: ${saved.response.status}`);
  const stale = await client.PUT("/session/data", { params: ifMatch, body: { cart: [] } });

  const patched = await client.PATCH("/session/data", {
    params: session,
    body: { coupon: "SPRING" },
    headers: { "Content-Type": "application/merge-patch+json" },
  });
  if (!patched.data) throw new Error(`patch: ${patched.response.status}`);

  const deleted = await client.DELETE("/session", { params: session });
  const gone = await client.GET("/session", { params: session });

  return {
    created: { cart: created.data.data.cart, version: created.data.version, location: created.response.headers.get("Location") },
    read: { cart: read.data.data.cart, etag },
    saved: { cart: saved.data.data.cart, version: saved.data.version },
    conflict: { status: stale.response.status, code: stale.error?.error.code },
    patched: { cart: patched.data.data.cart, coupon: patched.data.data.coupon, version: patched.data.version },
    deleted: deleted.response.status,
    gone: { status: gone.response.status, code: gone.error?.error.code },
  };
}
