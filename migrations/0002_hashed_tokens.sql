-- Migration number: 0002
-- Sessions keyed by a public id and the SHA-256 of a secret, with user and expiry indexes.
--
-- Sessions created before this migration end here: their ids were their bearer credentials,
-- stored in clear and written to logs, so keeping them would keep that exposure. Their
-- holders sign in again. The drop and the new table are one migration, which wrangler
-- applies as one unit: it lands whole or not at all.
DROP TABLE IF EXISTS sessions;

-- WITHOUT ROWID: the id is the key, so an insert writes the row once (2 rows billed with
-- the expiry index, 3 with the user index) where a rowid table writes it twice.
-- secret_hash: unpadded base64url of SHA-256(secret); the secret and the token never reach
-- the database. Times are epoch milliseconds; data is the JSON text of one object.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY NOT NULL,
  secret_hash TEXT NOT NULL,
  user_id TEXT,
  data TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- The purge deletes by expiry in bounded batches; this keeps each batch an index scan.
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- A user's sessions, newest first, for listing and revoking them. Partial: an anonymous
-- session (no user) writes no entry here.
CREATE INDEX sessions_user ON sessions (user_id, created_at) WHERE user_id IS NOT NULL;
