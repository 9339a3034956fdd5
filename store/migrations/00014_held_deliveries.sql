-- Portable SQL (SQLite and PostgreSQL). Times are unix microseconds.
-- Deliveries a subscription's preferences hold (issue 16): paused, in
-- quiet hours, or gathered into a digest; and the messages each method
-- sent in its current throttle period.

-- +goose Up
-- release_at: when a held delivery is released (0: never held). It stays
-- set once released, so that the delivery is not held again.
-- held_reason: the preference that held it (paused, quiet-hours, digest,
-- throttle). held_digest: it goes out in its method's digest due at
-- release_at, not on its own.
ALTER TABLE deliveries ADD COLUMN release_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN held_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN held_digest BOOLEAN NOT NULL DEFAULT FALSE;
-- The held deliveries by release time, and a digest's by its group.
CREATE INDEX deliveries_held ON deliveries (release_at, subscription_id, method_id) WHERE status = 'held';

-- The messages a method sent in its current throttle period (a digest
-- counts as one), updated in the write that records each send, for the
-- methods of a channel with a throttle only.
CREATE TABLE method_sends (
    subscription_id TEXT    NOT NULL,
    method_id       TEXT    NOT NULL,
    period_start    BIGINT  NOT NULL,
    sent            INTEGER NOT NULL,
    PRIMARY KEY (subscription_id, method_id)
);

-- +goose Down
DROP TABLE method_sends;
DROP INDEX deliveries_held;
ALTER TABLE deliveries DROP COLUMN held_digest;
ALTER TABLE deliveries DROP COLUMN held_reason;
ALTER TABLE deliveries DROP COLUMN release_at;
