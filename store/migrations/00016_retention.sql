-- Portable SQL (SQLite and PostgreSQL). Times are unix microseconds.
-- Retention (issue 17): what the pruner needs to find the history that
-- may go, in small batches, without reading whole tables.

-- +goose Up
-- gone_at: when this version of a notification resource was known to be
-- gone from the principal's notification collection (deleted by notifyd,
-- by the server or the user, or replaced by a newer version): a full
-- resync cannot meet it again, so its record is no longer what keeps it
-- from being sent twice. 0 while it may still be there.
ALTER TABLE notifications ADD COLUMN gone_at BIGINT NOT NULL DEFAULT 0;
-- The pruner reads notifications oldest first. Times only grow, so new
-- entries go to the index's last page: cheap to keep up.
CREATE INDEX notifications_by_time ON notifications (created_at);
-- The finished notifications that may still sit in their collection, by
-- href, for a sync to mark those it sees deleted or replaced. Those the
-- after-delivery policy deleted are gone when they finish and never
-- enter it; with the keep policy, each finished notification does.
CREATE INDEX notifications_in_collection ON notifications (system, principal, href)
    WHERE gone_at = 0 AND status IN ('done', 'dead');
-- Reminders that will not ring again, by trigger time, for the pruner.
CREATE INDEX reminders_ended ON reminders (trigger_at) WHERE state <> 'scheduled';
-- Published events whose notification was made, by when, for the pruner.
CREATE INDEX published_events_processed ON published_events (processed_at) WHERE processed_at > 0;
-- The delivery log searched by address ("why did this person get
-- nothing?"): without it, a search reads the whole log (670 ms at a
-- million deliveries, seconds at ten). An entry more written per
-- delivery.
CREATE INDEX deliveries_by_address ON deliveries (address, created_at, id);

-- +goose Down
DROP INDEX deliveries_by_address;
DROP INDEX published_events_processed;
DROP INDEX reminders_ended;
DROP INDEX notifications_in_collection;
DROP INDEX notifications_by_time;
ALTER TABLE notifications DROP COLUMN gone_at;
