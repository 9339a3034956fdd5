-- Portable SQL (SQLite and PostgreSQL). Times are unix microseconds.
-- The events calendar servers publish (POST /v1/events, Sun ENS style),
-- and the subscription setting that keeps a principal's own changes from
-- being sent to it.

-- +goose Up
-- One row per event published and acknowledged. id is derived from what
-- identifies the event (system, topic, calid, uid, rid, aid; and the
-- version of the payload, as parsed, for a topic the same component is
-- published on again, such as a modification): the primary key makes a second publish of the same
-- event a duplicate, acknowledged without effect. notification is the
-- notifyd.Notification it becomes, as JSON; processed_at is when its
-- notification and deliveries were created (0 while its job waits).
CREATE TABLE published_events (
    id               TEXT   NOT NULL PRIMARY KEY,
    system           TEXT   NOT NULL,
    topic            TEXT   NOT NULL,
    principal        TEXT   NOT NULL,
    calid            TEXT   NOT NULL DEFAULT '',
    uid              TEXT   NOT NULL DEFAULT '',
    rid              TEXT   NOT NULL DEFAULT '',
    aid              TEXT   NOT NULL DEFAULT '',
    triggered_by     TEXT   NOT NULL DEFAULT '',
    component_source TEXT   NOT NULL DEFAULT '',
    notification     TEXT   NOT NULL,
    received_at      BIGINT NOT NULL,
    processed_at     BIGINT NOT NULL DEFAULT 0
);
-- The backlog gauge counts the events whose job waits: these few only.
CREATE INDEX published_events_waiting ON published_events (processed_at) WHERE processed_at = 0;

-- A publish naming a calendar (calid) and no principal is delivered to
-- the calendar's owner, found among the calendars notifyd syncs: by href.
CREATE INDEX calendars_by_href ON calendars (system, href);

-- notify_own_changes: send the principal the changes it made itself
-- (by default they are recorded as suppressed, not sent).
ALTER TABLE subscriptions ADD COLUMN notify_own_changes BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE subscriptions DROP COLUMN notify_own_changes;
DROP INDEX calendars_by_href;
DROP INDEX published_events_waiting;
DROP TABLE published_events;
