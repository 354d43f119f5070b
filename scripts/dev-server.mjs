// `wrangler dev` for the node tests and the benches: a free loopback port, a wait until it
// answers, and a stop that ends its whole process group (wrangler starts workerd as a child).
import { spawn } from "node:child_process";
import { createServer } from "node:net";

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Starts run one at a time: two `wrangler dev` starting at once pick their inner ports
// (workerd's own sockets) in the same instant and can collide ("Address already in use").
let starting = Promise.resolve();

/**
 * Starts `command ...args --port P` in `cwd` and waits (up to 60 s) for it to answer `/`.
 * Resolves `{ origin, port, pid, stop }` (`pid` also names its process group); rejects with
 * wrangler's log when it never answers.
 */
export function startDev(command, args, options) {
  const started = starting.then(() => start(command, args, options));
  starting = started.catch(() => undefined);
  return started;
}

async function start(command, args, { cwd, env = process.env, host = "127.0.0.1" } = {}) {
  const port = await freePort();
  const dev = spawn(command, [...args, "--port", String(port)], { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let log = "";
  dev.stdout.on("data", (chunk) => (log += chunk));
  dev.stderr.on("data", (chunk) => (log += chunk));
  const stop = () => {
    try {
      process.kill(-dev.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  };
  let exited = false;
  dev.on("exit", () => (exited = true));
  const origin = `http://${host}:${port}`;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && !exited; ) {
    // Each probe gives up after 2 s: a wrangler whose build failed keeps the port open and
    // never answers, and a probe without a bound would wait for ever.
    const answered = await fetch(`${origin}/`, { signal: AbortSignal.timeout(2000) }).then(
      () => true,
      () => false,
    );
    if (answered) return { origin, port, pid: dev.pid, stop };
    await new Promise((r) => setTimeout(r, 250));
  }
  stop();
  throw new Error(`wrangler dev did not answer on ${origin}:\n${log}`);
}
