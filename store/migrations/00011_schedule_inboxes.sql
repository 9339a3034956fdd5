-- Portable SQL (SQLite and PostgreSQL). Times are unix microseconds.
-- Scheduling inboxes (RFC 6638): where each principal's inbox is, how far
-- notifyd synced it, and the iTIP messages it has seen there.

-- +goose Up
-- One row per principal whose scheduling inbox notifyd syncs. href is the
-- inbox's path (another path is another inbox: its first sync sends
-- nothing); sync_token is the sync-collection token ('' when the server
-- refuses the REPORT and the inbox is listed); listed_tag is what the
-- calendar home's listing showed of the inbox before the last sync (the
-- same again: nothing changed, no REPORT).
CREATE TABLE schedule_inboxes (
    system     TEXT   NOT NULL,
    principal  TEXT   NOT NULL,
    href       TEXT   NOT NULL,
    sync_token TEXT   NOT NULL DEFAULT '',
    listed_tag TEXT   NOT NULL DEFAULT '',
    synced_at  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (system, principal)
);

-- One row per item of the inbox notifyd has seen (and not seen go since):
-- an item listed again with the same etag is not read again. uid and
-- method are the iTIP message's ('' when it could not be read): a REQUEST
-- for a uid already seen is an updated invitation.
CREATE TABLE schedule_inbox_items (
    system    TEXT   NOT NULL,
    principal TEXT   NOT NULL,
    href      TEXT   NOT NULL,
    etag      TEXT   NOT NULL,
    uid       TEXT   NOT NULL DEFAULT '',
    method    TEXT   NOT NULL DEFAULT '',
    seen_at   BIGINT NOT NULL,
    PRIMARY KEY (system, principal, href)
);

-- +goose Down
DROP TABLE schedule_inbox_items;
DROP TABLE schedule_inboxes;
