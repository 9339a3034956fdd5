-- Portable SQL (SQLite and PostgreSQL). Times are unix microseconds.
-- Calendar update notifications: the changes a calendar sync found that
-- wait for their burst window to close, who a calendar is shared with,
-- and what a person sees of a calendar.

-- +goose Up
-- One row per event, task or calendar changed and not yet told of: the
-- state before the first change of its burst, and when the burst's window
-- closes (its update_object job runs then). key is "uid:" and the UID of
-- an event or task (the same across calendars: a move is one change), or
-- "calendar:" and a calendar's href. before is JSON (store.UpdateState),
-- '' when it did not exist.
CREATE TABLE pending_updates (
    system        TEXT   NOT NULL,
    principal     TEXT   NOT NULL,
    key           TEXT   NOT NULL,
    calendar_href TEXT   NOT NULL,
    before        TEXT   NOT NULL,
    first_at      BIGINT NOT NULL,
    due_at        BIGINT NOT NULL,
    PRIMARY KEY (system, principal, key)
);

-- One row per calendar shared with a principal, as its sharing invitation
-- said: calendar is the owner's path of it (the invite's hosturl), cleaned
-- and without a trailing slash. A calendar whose invitation says
-- no-access, or was declined, has no row.
CREATE TABLE calendar_sharees (
    system     TEXT   NOT NULL,
    principal  TEXT   NOT NULL,
    calendar   TEXT   NOT NULL,
    access     TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (system, principal, calendar)
);

-- description and color: what a person sees of a calendar besides its
-- name. shared_url: the owner's path of the calendar when the server
-- names it (CS:shared-url: Cyrus does, on the service account's view of
-- it), else ''. sharee: the calendar is another principal's, shared with
-- this one (its changes are news to this one; its alarms are not its
-- reminders).
ALTER TABLE calendars ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE calendars ADD COLUMN color TEXT NOT NULL DEFAULT '';
ALTER TABLE calendars ADD COLUMN shared_url TEXT NOT NULL DEFAULT '';
ALTER TABLE calendars ADD COLUMN sharee BOOLEAN NOT NULL DEFAULT FALSE;
-- owner: the path of the calendar's DAV:owner, '' when the server names
-- none: a ping of the owner syncs the sharees' calendars too.
ALTER TABLE calendars ADD COLUMN owner TEXT NOT NULL DEFAULT '';
CREATE INDEX calendars_by_owner ON calendars (system, owner) WHERE sharee;
-- listed_at: when a sync first recorded the principal's calendar home for
-- updates (0: never): calendars found before are no news.
ALTER TABLE calendar_homes ADD COLUMN listed_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX calendar_objects_by_uid ON calendar_objects (system, principal, uid);

-- +goose Down
DROP INDEX calendar_objects_by_uid;
DROP INDEX calendars_by_owner;
ALTER TABLE calendars DROP COLUMN owner;
ALTER TABLE calendar_homes DROP COLUMN listed_at;
ALTER TABLE calendars DROP COLUMN sharee;
ALTER TABLE calendars DROP COLUMN shared_url;
ALTER TABLE calendars DROP COLUMN color;
ALTER TABLE calendars DROP COLUMN description;
DROP TABLE calendar_sharees;
DROP TABLE pending_updates;
