-- Migration number: 0001
-- The sessions table of d1-session-manager. Times are epoch milliseconds; data is the
-- JSON text of one object.
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY NOT NULL,
  user_id TEXT,
  data TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

-- The cron purge deletes by expiry in bounded batches; this keeps each batch an index scan.
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
