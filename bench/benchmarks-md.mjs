// BENCHMARKS.md has three writers: bench/run.mjs (the package: the file's head),
// bench/http.mjs (the Worker over HTTP) and bench/scale.mjs (a million sessions, one database
// against four shards), each of the last two a section between markers. Each replaces only
// its own part, so running one keeps the others' last figures; all end the file with
// bench/where-the-time-goes.md as it is now.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const FILE = path.join(import.meta.dirname, "..", "BENCHMARKS.md");
const WHERE = "## Where the time goes";
const SECTIONS = {
  http: ["<!-- From here to the end marker: written by bench/http.mjs -->", "<!-- End of bench/http.mjs's section -->"],
  scale: ["<!-- From here to the end marker: written by bench/scale.mjs -->", "<!-- End of bench/scale.mjs's section -->"],
};

/** Writes BENCHMARKS.md with `core` (run.mjs's part) and/or the named sections' new text. */
export function writeBenchmarks({ core, ...sections }) {
  const old = existsSync(FILE) ? readFileSync(FILE, "utf8") : "";
  const starts = Object.values(SECTIONS).map(([start]) => old.indexOf(start));
  const coreEnd = Math.min(...[...starts, old.indexOf(`\n${WHERE}\n`), old.length].filter((i) => i >= 0));
  core = (core ?? old.slice(0, coreEnd)).trim();
  const kept = Object.entries(SECTIONS).flatMap(([name, [start, end]]) => {
    const at = old.indexOf(start);
    const text = sections[name] ?? (at < 0 ? "" : old.slice(at + start.length, old.indexOf(end)).trim());
    return text ? [start, text, end, ""] : [];
  });
  const where = readFileSync(path.join(import.meta.dirname, "where-the-time-goes.md"), "utf8").trim();
  writeFileSync(FILE, [core, "", ...kept, WHERE, "", where, ""].join("\n"));
}
