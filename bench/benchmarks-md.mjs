// BENCHMARKS.md has two writers: bench/run.mjs (the package: the file's head) and
// bench/http.mjs (the Worker over HTTP: one section between markers). Each replaces only its
// own part, so running one keeps the other's last figures; both end the file with
// bench/where-the-time-goes.md as it is now.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const FILE = path.join(import.meta.dirname, "..", "BENCHMARKS.md");
const WHERE = "## Where the time goes";
const HTTP_START = "<!-- From here to the end marker: written by bench/http.mjs -->";
const HTTP_END = "<!-- End of bench/http.mjs's section -->";

/** Writes BENCHMARKS.md with `core` (run.mjs's part) and/or `http` (http.mjs's section). */
export function writeBenchmarks({ core, http }) {
  const old = existsSync(FILE) ? readFileSync(FILE, "utf8") : "";
  const httpAt = old.indexOf(HTTP_START);
  const whereAt = old.indexOf(`\n${WHERE}\n`);
  const coreEnd = Math.min(...[httpAt, whereAt, old.length].filter((i) => i >= 0));
  core = (core ?? old.slice(0, coreEnd)).trim();
  http ??= httpAt < 0 ? "" : old.slice(httpAt + HTTP_START.length, old.indexOf(HTTP_END)).trim();
  const where = readFileSync(path.join(import.meta.dirname, "where-the-time-goes.md"), "utf8").trim();
  const parts = [core, "", ...(http ? [HTTP_START, http, HTTP_END, ""] : []), WHERE, "", where, ""];
  writeFileSync(FILE, parts.join("\n"));
}
