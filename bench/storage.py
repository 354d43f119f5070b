"""Bytes per session on disk, for `npm run bench` (bench/scale.mjs): the sessions table as the
migrations make it (WITHOUT ROWID, expiry index, partial user index), and the same table
with a rowid for comparison, filled with 20,000 sessions of a given data size in SQLite with
D1's page size (4,096 bytes). Exact: SQLite's own page count, which a local D1's files
cannot give while their write-ahead log holds pages. A third schema is measured beside them:
an INTEGER PRIMARY KEY (a rowid alias, so no separate key index) made of 52 random bits of the
id, with the id kept as a plain column, which writes as few rows as WITHOUT ROWID. Prints
JSON: {payload: [ours, rowid, keyed]}.
"""
import json
import random
import sqlite3
import sys
import uuid

SESSIONS = 20_000
NOW = 1_800_000_000_000


COLUMNS = (
    "secret_hash TEXT NOT NULL, user_id TEXT, data TEXT NOT NULL DEFAULT '{}', "
    "created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, version INTEGER NOT NULL DEFAULT 1"
)
SCHEMAS = {
    "ours": f"CREATE TABLE sessions (id TEXT PRIMARY KEY NOT NULL, {COLUMNS}) WITHOUT ROWID",
    "rowid": f"CREATE TABLE sessions (id TEXT PRIMARY KEY NOT NULL, {COLUMNS})",
    "keyed": f"CREATE TABLE sessions (key INTEGER PRIMARY KEY, id TEXT NOT NULL, {COLUMNS})",
}


def bytes_per_session(schema: str, payload: int) -> float:
    db = sqlite3.connect(":memory:")
    db.execute("PRAGMA page_size = 4096")
    db.execute(SCHEMAS[schema])
    db.execute("CREATE INDEX sessions_expires_at ON sessions (expires_at)")
    db.execute(
        "CREATE INDEX sessions_user ON sessions (user_id, created_at) WHERE user_id IS NOT NULL"
    )
    empty = db.execute("PRAGMA page_count").fetchone()[0]
    data = '{"blob":"' + "x" * (payload - 11) + '"}'
    # As the package makes them: random v4 ids, a 43-character hash, users of 5 sessions.
    rows = [
        (str(uuid.uuid4()), "H" * 43, f"user-{i // 5}", data,
         NOW + random.randrange(43_200_000), NOW + 86_400_000 + random.randrange(43_200_000), 1)
        for i in range(SESSIONS)
    ]
    if schema == "keyed":
        # 52 bits: exact as a JS number, as every integer crossing D1 into JS must be.
        rows = [(int(r[0].replace("-", "")[-13:], 16),) + r for r in rows]
    marks = ", ".join("?" * len(rows[0]))
    db.executemany(f"INSERT INTO sessions VALUES ({marks})", rows)
    pages = db.execute("PRAGMA page_count").fetchone()[0] - empty
    return pages * 4096 / SESSIONS


payloads = [int(p) for p in sys.argv[1:]] or [100, 500, 900, 1000, 2000]
print(json.dumps({p: [bytes_per_session(schema, p) for schema in SCHEMAS] for p in payloads}))
