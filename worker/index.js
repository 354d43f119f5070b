// The deployed Worker: hands requests and cron runs to the wasm core's workers-rs entry
// points (`#[event(fetch)]`, `#[event(scheduled)]` in src/http/entry.rs). A trap
// in the core (with panic=abort, a Rust panic is `unreachable`) ends only the calls running
// in that instance, each with a 500, and the next call gets a fresh instance.
import { WorkerEntrypoint } from "cloudflare:workers";
import { defineMethods } from "../js/operations.js";
import { __wbg_reset_state, initSync, fetch as handleFetch, operations, rpc, scheduled as handleScheduled } from "./pkg/d1_session_manager.js";
import wasmModule from "./pkg/d1_session_manager_bg.wasm";

initSync({ module: wasmModule });

const INTERNAL = JSON.stringify({ error: { code: "internal", message: "internal error" } });

/** How to end each call into wasm that has not settled, should the instance trap. */
const running = new Set();

/**
 * `call()` (a call into wasm that returns a promise), settled with `onTrap()` if the wasm
 * instance traps before it settles. A trap reaches us in one of three ways: thrown by the
 * call, as a rejection, or, most often, not at all: the Rust futures run in
 * wasm-bindgen-futures' executor, whose polls are `queueMicrotask` callbacks, so a trap
 * there is reported to the global `error` event and the call's promise never settles.
 */
function contained(call, onTrap) {
  return new Promise((resolve, reject) => {
    const abandon = () => resolve(onTrap());
    running.add(abandon);
    const failed = (error) => {
      if (error instanceof WebAssembly.RuntimeError) return recover(error);
      running.delete(abandon);
      reject(error);
    };
    try {
      call().then((value) => {
        running.delete(abandon);
        resolve(value);
      }, failed);
    } catch (error) {
      failed(error);
    }
  });
}

/**
 * Replaces the trapped instance with a fresh one, so the next call works. Every call in
 * flight lived in the old instance's memory and can never finish, so each one is ended
 * (a 500 per request), not only the call that trapped. Their callbacks on D1's promises
 * still fire later; the glue refuses to run them in the new instance by throwing, which the
 * runtime logs as an uncaught rejection, once per ended call.
 */
function recover(error) {
  const abandoned = [...running];
  running.clear();
  try {
    __wbg_reset_state();
  } finally {
    console.log(JSON.stringify({ failure: "internal", status: 500, detail: `wasm trap: ${error.message}`, abandoned: abandoned.length }));
    for (const abandon of abandoned) abandon();
  }
}

addEventListener("error", (event) => {
  if (event.error instanceof WebAssembly.RuntimeError) {
    // Handled here, and logged once by `recover`: not again as an uncaught exception.
    event.preventDefault();
    recover(event.error);
  }
});

/** The most of a request body `drain` reads: past it, the rest is left as it is. */
const DRAIN_LIMIT = 10 * 1024 * 1024;

/**
 * Reads to its end (up to DRAIN_LIMIT bytes) whatever of the request body the answer left
 * unread: a refusal (401, 404, 405, 413, 415, ...), or a route that takes no body. Under
 * `wrangler dev`, an answer that leaves a body unread or cancels it often breaks the
 * connection instead (its proxy answers 500 "Network connection lost", or resets).
 */
async function drain(request) {
  if (request.body === null || request.body.locked) return;
  // A body read partway and left breaks more connections than one left untouched.
  if (Number(request.headers.get("content-length")) > DRAIN_LIMIT) return;
  const reader = request.body.getReader();
  try {
    for (let left = DRAIN_LIMIT; left >= 0; ) {
      const { done, value } = await reader.read();
      if (done) return;
      left -= value.byteLength;
    }
  } catch {
    // The client went away or the upload failed: the answer stands.
  } finally {
    reader.releaseLock();
  }
}

export default {
  async fetch(request, env, ctx) {
    const internal = () =>
      new Response(request.method === "HEAD" ? null : INTERNAL, {
        status: 500,
        // As every answer of the core's: no cache may keep it.
        headers: { "content-type": "application/json", "cache-control": "no-store" },
      });
    const response = await contained(() => handleFetch(request, env, ctx), internal);
    // Before the answer leaves: workerd refuses reads of a request body after that.
    await drain(request);
    return response;
  },
  scheduled(controller, env, ctx) {
    ctx.waitUntil(
      contained(
        () => handleScheduled(controller, env, ctx),
        () => undefined,
      ),
    );
  },
};

/**
 * One RPC method: the core's operation, its value converted as the npm package converts it
 * (times as Dates). A failure rejects with an Error whose message starts with the stable
 * code and a colon: RPC keeps only an error's name and message. `replica`: the operation may
 * start at a read replica (js/operations.js decides). `extra` is the argument after the npm
 * API's last: given as `{ bookmark }` (a bookmark, `"first-primary"`, or `null` for none
 * yet), the method resolves `{ result, bookmark }` with the newest bookmark (read replicas,
 * `SESSION_REPLICAS`); anything else there is refused, never guessed at.
 */
async function call(env, { index, value: convert }, [a, b, c], replica, extra) {
  if (extra !== undefined && (extra === null || typeof extra !== "object" || !("bookmark" in extra))) {
    throw new Error("invalid_argument: the argument after the method's own must be { bookmark }");
  }
  const bookmark = extra === undefined ? undefined : (extra.bookmark ?? null);
  const answer = JSON.parse(
    await contained(
      () => rpc(env, index, a, b, c, bookmark, replica),
      () => INTERNAL,
    ),
  );
  if (answer.error) throw new Error(`${answer.error.code}: ${answer.error.message}`);
  const result = convert(answer.value);
  return bookmark === undefined ? result : { result, bookmark: answer.bookmark };
}

/**
 * The session service for other Workers, through a service binding
 * (`entrypoint = "SessionService"`): the npm API's methods, names, arguments and results,
 * but `updateSessionData`, whose function cannot cross RPC. A service binding is not
 * reachable from the Internet, so no bearer token is asked. Each method takes one more,
 * optional argument, `{ bookmark }`, for read replicas (see `call`).
 */
export class SessionService extends WorkerEntrypoint {}

// Its methods, made from the table the npm package's SessionManager is made from too.
defineMethods(SessionService.prototype, operations(), (service, operation, args, replica, extra) => call(service.env, operation, args, replica, extra));
