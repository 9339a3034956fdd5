-- Portable SQL (SQLite and PostgreSQL). Times are unix microseconds.
-- The audit trail (issue 17): one row per change made through the API,
-- written in the change's own transaction. before_json and after_json are
-- the resource as JSON before and after ('' when there is none).

-- +goose Up
CREATE TABLE audit_log (
    id            TEXT   NOT NULL PRIMARY KEY,
    at            BIGINT NOT NULL,
    actor_kind    TEXT   NOT NULL,
    actor         TEXT   NOT NULL,
    action        TEXT   NOT NULL,
    resource_type TEXT   NOT NULL,
    resource_id   TEXT   NOT NULL,
    system        TEXT   NOT NULL,
    principal     TEXT   NOT NULL,
    before_json   TEXT   NOT NULL DEFAULT '',
    after_json    TEXT   NOT NULL DEFAULT ''
);
-- Listings are in (at, id) order, by time range or after a cursor, most
-- of them for one system or one principal.
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_system ON audit_log (system, at, id);
CREATE INDEX audit_log_principal ON audit_log (principal, at, id);

-- +goose Down
DROP TABLE audit_log;
