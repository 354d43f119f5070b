#!/usr/bin/env node
// `npx d1-session-manager migrations <dir>`: copies the package's D1 migrations into an
// app's own migrations folder, numbered after the app's last one. Wrangler takes one
// `migrations_dir` per database, so an app with tables of its own cannot point it at
// node_modules. Each copy names its source in its first line, so running this again after
// an upgrade copies only the migrations the folder does not have yet.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const USAGE = "usage: d1-session-manager migrations <your migrations folder>";
const ours = path.join(import.meta.dirname, "..", "migrations");
// Wrangler's file names: a number, an underscore, a name.
const NUMBERED = /^(\d+)_.+\.sql$/;
const MARK = "-- d1-session-manager migration ";

function copyMigrations(dir) {
  mkdirSync(dir, { recursive: true });
  const present = readdirSync(dir).filter((f) => NUMBERED.test(f));
  const copied = new Set(
    present
      .map((f) => readFileSync(path.join(dir, f), "utf8").split("\n", 1)[0])
      .filter((line) => line.startsWith(MARK))
      .map((line) => line.slice(MARK.length).trim()),
  );
  let next = Math.max(0, ...present.map((f) => Number(NUMBERED.exec(f)[1]))) + 1;
  const added = [];
  for (const file of readdirSync(ours)
    .filter((f) => NUMBERED.test(f))
    .sort()) {
    if (copied.has(file)) continue;
    // 0002_hashed_tokens.sql becomes, say, 0008_d1_session_manager_hashed_tokens.sql.
    const name = `${String(next).padStart(4, "0")}_d1_session_manager_${file.slice(file.indexOf("_") + 1)}`;
    const target = path.join(dir, name);
    if (existsSync(target)) throw new Error(`${target} exists already`);
    writeFileSync(target, `${MARK}${file}\n${readFileSync(path.join(ours, file), "utf8")}`);
    added.push(name);
    next += 1;
  }
  return added;
}

const [command, dir] = process.argv.slice(2);
if (command !== "migrations" || !dir) {
  console.error(USAGE);
  process.exit(2);
}
try {
  const added = copyMigrations(path.resolve(dir));
  console.log(added.length ? `added:\n${added.map((f) => `  ${f}`).join("\n")}` : "up to date: nothing to add");
} catch (e) {
  console.error(`d1-session-manager: ${e.message}`);
  process.exit(1);
}
