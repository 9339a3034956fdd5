-- Portable SQL (SQLite and PostgreSQL).

-- Every sync inserts its notifications into each index of the table, and
-- each change of status moves them in the status index. Two lookups need
-- an index, both of notifications in one rare status: the sweep's (those
-- settled but whose after-delivery policy is not applied, status
-- delivered) and the listing of dead notifications. Partial indexes hold
-- just those; the queries name the status as a literal so that the
-- planners can use them.

-- +goose Up
DROP INDEX notifications_to_finish;
DROP INDEX notifications_by_principal;
CREATE INDEX notifications_settled ON notifications (settled_at) WHERE status = 'delivered';
CREATE INDEX notifications_dead ON notifications (created_at, id) WHERE status = 'dead';

-- +goose Down
DROP INDEX notifications_dead;
DROP INDEX notifications_settled;
CREATE INDEX notifications_by_principal ON notifications (system, principal, id);
CREATE INDEX notifications_to_finish ON notifications (status, settled_at);
