-- Portable SQL (SQLite and PostgreSQL).
-- The delivery that put an address on the suppression list (a bounce, a
-- complaint, a STOP reply), so that an operator goes from the entry to
-- the message it is about. '' for an entry no delivery caused (an
-- operator's, an API client's) and for those added before.

-- +goose Up
ALTER TABLE suppressions ADD COLUMN delivery_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE suppressions DROP COLUMN delivery_id;
