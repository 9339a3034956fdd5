-- Portable SQL (SQLite and PostgreSQL). Times are unix microseconds.
-- The suppression list (issue 18): addresses notifyd must not send to,
-- whatever subscription names them. Every delivery is checked against it
-- before it is sent (one lookup of the primary key); a suppressed one is
-- recorded as suppressed, or falls back to its subscription's next
-- method when the subscription's channel order says so.

-- +goose Up
-- channel: the channel whose addresses it is (email, sms).
-- address: as store.NormalizeSuppressionAddress gives it (email: all in
-- lower case; sms: E.164). id: 32 hex digits, for the API's cursor.
-- reason: hard_bounce, complaint, unsubscribe, stop, manual. detail: the
-- bounce's diagnostic, the operator's note (at most 2000 characters).
-- actor_kind, actor: who added it (as audit_log's).
CREATE TABLE suppressions (
    channel    TEXT   NOT NULL,
    address    TEXT   NOT NULL,
    id         TEXT   NOT NULL,
    reason     TEXT   NOT NULL,
    detail     TEXT   NOT NULL DEFAULT '',
    actor_kind TEXT   NOT NULL DEFAULT '',
    actor      TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (channel, address)
);
-- The listing's order and cursor.
CREATE UNIQUE INDEX suppressions_created ON suppressions (created_at, id);

-- +goose Down
DROP TABLE suppressions;
