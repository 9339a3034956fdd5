-- Portable SQL (SQLite and PostgreSQL).

-- The backlog gauge (notifyd_backlog{work="syncs"}) counts the principals
-- whose sync is queued, at every scrape of every replica. Without an
-- index that reads the whole of principal_state, one row per principal
-- ever pinged (millions), to find the few queued. This index holds those
-- few: the count reads them only. Its cost is an entry written when a
-- ping queues a principal's sync and removed when the sync ends, on a
-- small index whose pages stay in cache.

-- +goose Up
CREATE INDEX principal_state_queued ON principal_state (queued) WHERE queued;

-- +goose Down
DROP INDEX principal_state_queued;
