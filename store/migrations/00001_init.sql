-- Portable SQL: this file runs unchanged on SQLite and PostgreSQL.
-- Times are unix microseconds (BIGINT); lists are JSON text.

-- +goose Up
CREATE TABLE principal_state (
    system       TEXT   NOT NULL,
    principal    TEXT   NOT NULL,
    -- dirty_gen advances with every committed batch of pings naming the
    -- principal; the principal is dirty while it is ahead of
    -- synced_gen, the dirty_gen the last finished sync started from.
    dirty_gen    BIGINT NOT NULL,
    synced_gen   BIGINT NOT NULL DEFAULT 0,
    -- queued is true while a sync job is waiting or running for the
    -- principal (at most one is); enqueued_gen is the dirty_gen whose ping
    -- queued it. A ping for a principal with a job queued only advances
    -- dirty_gen; the job syncs again if it sees that when it finishes.
    queued       BOOLEAN NOT NULL DEFAULT FALSE,
    enqueued_gen BIGINT NOT NULL DEFAULT 0,
    sync_token   TEXT   NOT NULL DEFAULT '',
    first_ping_at BIGINT NOT NULL,
    last_ping_at BIGINT NOT NULL,
    PRIMARY KEY (system, principal)
);

CREATE TABLE subscriptions (
    id         TEXT    NOT NULL PRIMARY KEY,
    system     TEXT    NOT NULL,
    principal  TEXT    NOT NULL,
    enabled    BOOLEAN NOT NULL,
    types      TEXT    NOT NULL,
    locale     TEXT    NOT NULL,
    time_zone  TEXT    NOT NULL,
    methods    TEXT    NOT NULL,
    version    BIGINT  NOT NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE INDEX subscriptions_by_principal ON subscriptions (system, principal, id);

-- +goose Down
DROP TABLE subscriptions;
DROP TABLE principal_state;
