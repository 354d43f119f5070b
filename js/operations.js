// The operations both JS surfaces offer, in one table: the npm package's SessionManager
// (js/index.js) and the Worker's RPC service (worker/index.js) make their methods from it,
// and src/bridge/calls.rs runs each row's operation in the core.
import { date, latest, rotation, same, session, summaries, toJson } from "./values.js";

/**
 * @typedef {object} Row
 * @property {string} operation the core's operation (`Operation::name` in src/core/manager.rs)
 * @property {number} params how many parameters the method takes; a read's last is its `{ latest }` option
 * @property {(...params: any[]) => unknown[]} args the method's parameters as the core's arguments (`a`, `b`, `c`)
 * @property {(value: any) => unknown} value the core's value as the caller gets it
 */

/** @type {Record<string, Row>} */
const METHODS = {
  createSession: { operation: "create", params: 2, args: (userId, data) => [userId, toJson(data)], value: session },
  getSession: { operation: "get", params: 2, args: (token) => [token, true], value: session },
  getSessionData: { operation: "get", params: 2, args: (token) => [token, false], value: same },
  saveSessionData: { operation: "save", params: 3, args: (token, data, options) => [token, toJson(data), options], value: same },
  patchSessionData: { operation: "patch", params: 2, args: (token, patch) => [token, toJson(patch)], value: same },
  renewSession: { operation: "renew", params: 1, args: (token) => [token], value: date },
  rotateSession: { operation: "rotate", params: 2, args: (token, options) => [token, options], value: rotation },
  deleteSession: { operation: "delete", params: 1, args: (token) => [token], value: same },
  findSession: { operation: "find", params: 2, args: (id) => [id], value: session },
  revokeSession: { operation: "revoke", params: 1, args: (id) => [id], value: same },
  listUserSessions: { operation: "listUser", params: 2, args: (userId) => [userId], value: summaries },
  revokeUserSessions: { operation: "revokeUser", params: 2, args: (userId, options) => [userId, options], value: same },
  purgeExpired: { operation: "purge", params: 1, args: (limit) => [limit], value: same },
};

/**
 * An operation as a surface starts it: its number in the core, and its value's conversion.
 * @typedef {{ index: number, value: (value: any) => unknown }} Operation
 */

/**
 * Defines the table's methods on `prototype`. `operations` is what the surface's core
 * answers to `operations()`: `[name, whether it only reads]` in the core's order. Each
 * method resolves `run(receiver, operation, args, replica, extra)`: `args` the core's
 * arguments, `replica` whether it may start at a read replica, and `extra` the argument after
 * the method's own (RPC's `{ bookmark }`). Answers each method's operation, by method name.
 * @param {object} prototype
 * @param {string} operations
 * @param {(receiver: any, operation: Operation, args: unknown[], replica: boolean, extra: unknown) => Promise<unknown>} run
 * @returns {Record<string, Operation>}
 */
export function defineMethods(prototype, operations, run) {
  /** @type {Map<string, { index: number, read: boolean }>} */
  const core = new Map(JSON.parse(operations).map(([name, read], index) => [name, { index, read }]));
  /** @type {Record<string, Operation>} */
  const made = {};
  for (const [name, { operation, params, args, value }] of Object.entries(METHODS)) {
    const known = core.get(operation);
    if (known === undefined) throw new Error(`the core has no operation ${operation}`);
    const { index, read } = known;
    const op = { index, value };
    made[name] = op;
    const method = {
      async [name](...given) {
        const converted = args(...given);
        // The one rule for read replicas: only a read that may be stale starts at one; a
        // write, or a read asked for the latest state, starts at the primary.
        const replica = read && !latest(given[params - 1]);
        return run(this, op, converted, replica, given[params]);
      },
    }[name];
    // As a class's own method: not enumerable.
    Object.defineProperty(prototype, name, { value: method, writable: true, configurable: true });
  }
  return made;
}
