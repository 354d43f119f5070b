import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { roundTrip, sessionsClient } from "./client/session-client.ts";
import { TOKEN } from "./token.js";

describe("the typed client (client/session-client.ts, typed by openapi.yaml alone)", () => {
  it("creates, reads, saves with If-Match, patches and deletes a session on the Worker", async () => {
    const client = sessionsClient("http://sessions.test", TOKEN, (request) => exports.default.fetch(request));
    const trip = await roundTrip(client, "typed-client");
    expect(trip.created).toEqual({ cart: [7], version: 1, location: expect.stringMatching(/^\/sessions\/[0-9a-f-]{36}$/) });
    expect(trip.read).toEqual({ cart: [7], etag: '"1"' });
    expect(trip.saved).toEqual({ cart: [7, 8], version: 2 });
    expect(trip.conflict).toEqual({ status: 412, code: "conflict" });
    expect(trip.patched).toEqual({ cart: [7, 8], coupon: "SPRING", version: 3 });
    expect(trip.deleted).toBe(204);
    expect(trip.gone).toEqual({ status: 404, code: "not_found" });
  });
});
