-- Portable SQL (SQLite and PostgreSQL). Times are unix microseconds.

-- +goose Up
ALTER TABLE principal_state ADD COLUMN collection_url TEXT NOT NULL DEFAULT '';
ALTER TABLE principal_state ADD COLUMN last_sync_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE principal_state ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
-- gone is set when the CalDAV server says the principal does not exist;
-- its pings are then synced once more, not retried forever.
ALTER TABLE principal_state ADD COLUMN gone BOOLEAN NOT NULL DEFAULT FALSE;

-- A notification resource seen in a collection. id is derived from
-- (system, principal, href, etag): the same version of a resource is the
-- same notification, so a full resync recognises what it already handled.
CREATE TABLE notifications (
    id          TEXT   NOT NULL PRIMARY KEY,
    system      TEXT   NOT NULL,
    principal   TEXT   NOT NULL,
    href        TEXT   NOT NULL,
    etag        TEXT   NOT NULL,
    type        TEXT   NOT NULL,
    -- parsed is the notification as JSON (notifyd.Notification).
    parsed      TEXT   NOT NULL,
    -- status: delivering (deliveries outstanding), delivered (all final,
    -- the after-delivery policy queued), done (policy applied), dead
    -- (unparseable: not delivered, reason in error).
    status      TEXT   NOT NULL,
    error       TEXT   NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    -- settled_at: when the last delivery became final; finish_queued: a
    -- job to apply the after-delivery policy is queued (otherwise the
    -- delivery that settled it applies it, and a sweep catches the ones a
    -- crash interrupted).
    settled_at    BIGINT  NOT NULL DEFAULT 0,
    finish_queued BOOLEAN NOT NULL DEFAULT FALSE,
    finished_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX notifications_to_finish ON notifications (status, settled_at);
CREATE INDEX notifications_by_principal ON notifications (system, principal, id);

-- One message to send: a (notification, channel, address). id is derived
-- from those three, so retries, restarts and second pings cannot make a
-- second delivery.
CREATE TABLE deliveries (
    id              TEXT    NOT NULL PRIMARY KEY,
    notification_id TEXT    NOT NULL REFERENCES notifications (id),
    system          TEXT    NOT NULL,
    principal       TEXT    NOT NULL,
    subscription_id TEXT    NOT NULL,
    method_id       TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    address         TEXT    NOT NULL,
    -- status: queued, retrying, sent, failed, skipped; then, for channels
    -- whose provider reports it (SMS), delivered or undelivered.
    status          TEXT    NOT NULL,
    -- provider_id: the provider's identifier of the message (a Twilio
    -- message SID), to match its status callbacks.
    provider_id     TEXT    NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    sent_at         BIGINT  NOT NULL DEFAULT 0,
    -- queued_at: when the delivery was created or last queued again by an
    -- operator (a dead letter retried); jobs.max_age counts from it.
    queued_at       BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX deliveries_by_notification ON deliveries (notification_id);
CREATE INDEX deliveries_by_time ON deliveries (created_at, id);
CREATE INDEX deliveries_by_principal ON deliveries (system, principal, created_at, id);
CREATE INDEX deliveries_by_status ON deliveries (status, created_at, id);
CREATE INDEX deliveries_by_provider_id ON deliveries (provider_id);

-- Settings notifyd generates itself and keeps (the unsubscribe key).
CREATE TABLE settings (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE deliveries;
DROP TABLE notifications;
ALTER TABLE principal_state DROP COLUMN gone;
ALTER TABLE principal_state DROP COLUMN last_error;
ALTER TABLE principal_state DROP COLUMN last_sync_at;
ALTER TABLE principal_state DROP COLUMN collection_url;
