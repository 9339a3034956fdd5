-- Portable SQL (SQLite and PostgreSQL). Times are unix microseconds.
-- Reminders: the calendars notifyd syncs for principals who want them,
-- the calendar objects it has seen, and the alarm instances it fires.

-- +goose Up
-- One row per principal whose calendars are synced for reminders.
-- queued is true while a calendar sync job waits or runs for it (at most
-- one does); again is set when it is asked for while queued (the job then
-- runs once more); synced_at is when the last one finished.
CREATE TABLE calendar_homes (
    system     TEXT    NOT NULL,
    principal  TEXT    NOT NULL,
    queued     BOOLEAN NOT NULL DEFAULT FALSE,
    again      BOOLEAN NOT NULL DEFAULT FALSE,
    synced_at  BIGINT  NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (system, principal)
);

CREATE TABLE calendars (
    system       TEXT   NOT NULL,
    principal    TEXT   NOT NULL,
    href         TEXT   NOT NULL,
    display_name TEXT   NOT NULL DEFAULT '',
    -- time_zone is the calendar's own zone, for its floating times and
    -- dates: its id or its VTIMEZONE (CALDAV:calendar-timezone), or ''.
    time_zone    TEXT   NOT NULL DEFAULT '',
    sync_token   TEXT   NOT NULL DEFAULT '',
    synced_at    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (system, principal, href)
);

CREATE TABLE calendar_objects (
    system        TEXT   NOT NULL,
    principal     TEXT   NOT NULL,
    href          TEXT   NOT NULL,
    calendar_href TEXT   NOT NULL,
    etag          TEXT   NOT NULL,
    uid           TEXT   NOT NULL,
    data          TEXT   NOT NULL,
    -- first_seen_at is when notifyd first saw this version (etag): an
    -- alarm whose trigger had passed by then does not fire.
    first_seen_at BIGINT NOT NULL,
    -- expand_at is when the object's alarm instances must be worked out
    -- again, as the horizon rolls on (0: never, nothing recurs).
    expand_at     BIGINT NOT NULL,
    PRIMARY KEY (system, principal, href)
);
CREATE INDEX calendar_objects_to_expand ON calendar_objects (expand_at) WHERE expand_at > 0;

-- One row per alarm instance within the horizon. fire_key identifies it
-- across edits (principal, UID, instance, alarm, trigger, repetition).
CREATE TABLE reminders (
    fire_key       TEXT   NOT NULL PRIMARY KEY,
    system         TEXT   NOT NULL,
    principal      TEXT   NOT NULL,
    calendar_href  TEXT   NOT NULL,
    object_href    TEXT   NOT NULL,
    trigger_at     BIGINT NOT NULL,
    -- details is the notifyd.Notification the reminder sends, as JSON.
    details        TEXT   NOT NULL,
    -- state: scheduled, fired, skipped or cancelled; reason says why for
    -- the last two.
    state          TEXT   NOT NULL,
    reason         TEXT   NOT NULL DEFAULT '',
    fired_at       BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX reminders_by_principal ON reminders (system, principal, trigger_at, fire_key);
CREATE INDEX reminders_by_object ON reminders (system, principal, object_href) WHERE state = 'scheduled';

-- +goose Down
DROP TABLE reminders;
DROP TABLE calendar_objects;
DROP TABLE calendars;
DROP TABLE calendar_homes;
