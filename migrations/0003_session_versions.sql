-- Migration number: 0003
-- A version per session, for compare-and-swap saves: 1 at creation, one more with every
-- data write (not with a renewal or rotation). Sessions from before start at 1.
ALTER TABLE sessions ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
