-- Portable SQL (SQLite and PostgreSQL).

-- Nearly every delivery ends sent (or, for SMS, delivered), so an index of
-- all deliveries by status mostly moved each one from the queued part to
-- the sent part, an index page more written per message. Listing the sent
-- ones needs no index of its own: they are most of the table, found by
-- scanning it in time order. The index keeps the rest, which operators
-- look for (queued, retrying, failed, skipped); the queries add the
-- index's condition as a literal so that the planners use it.

-- +goose Up
DROP INDEX deliveries_by_status;
CREATE INDEX deliveries_by_status ON deliveries (status, created_at, id) WHERE status NOT IN ('sent', 'delivered');

-- +goose Down
DROP INDEX deliveries_by_status;
CREATE INDEX deliveries_by_status ON deliveries (status, created_at, id);
