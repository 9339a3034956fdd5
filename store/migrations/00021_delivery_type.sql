-- Portable SQL (SQLite and PostgreSQL). Times are unix microseconds.
-- The delivery log searched by notification type: the type is copied
-- onto each delivery, with its own index in time order. Before, a search
-- for a type joined every delivery to its notification in time order,
-- which is quick for a common type but read the whole log for a rare or
-- absent one (6.3 s on PostgreSQL at ten million deliveries, minutes on
-- SQLite from a cold cache). An entry more written per delivery.
--
-- Upgrading fills the column of every delivery already stored, one
-- statement: at ten million deliveries it takes minutes (PostgreSQL
-- rewrites each row), during which notifyd does not start.

-- +goose Up
ALTER TABLE deliveries ADD COLUMN type TEXT NOT NULL DEFAULT '';
UPDATE deliveries SET type = COALESCE((SELECT n.type FROM notifications n WHERE n.id = deliveries.notification_id), '');
CREATE INDEX deliveries_by_type ON deliveries (type, created_at, id);

-- +goose Down
DROP INDEX deliveries_by_type;
ALTER TABLE deliveries DROP COLUMN type;
