-- Portable SQL (SQLite and PostgreSQL). Times are unix microseconds.
-- A delivery's history (issue 17, the console's timeline): one row per
-- attempt, written in the write that records the attempt's outcome, and
-- one per hold, release, operator retry or discard, and provider report.
-- Deliveries made before this table have none: their page shows what the
-- deliveries row keeps (the attempt count and last reply).

-- +goose Up
-- kind: attempt, held, released, requeued (retried by an operator),
-- discarded, provider (a provider's later report, such as delivered).
-- attempt: the attempt's number (1, 2…); 0 for what is not an attempt.
-- started_at: when the attempt started (= at for the others); at: when it
-- ended, or when the event happened. status: the delivery's status it
-- left. detail: the provider's reply or the error (at most 2000
-- characters), or why it was held. release_at: until when it was held.
CREATE TABLE delivery_events (
    delivery_id TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    attempt     INTEGER NOT NULL DEFAULT 0,
    started_at  BIGINT  NOT NULL,
    at          BIGINT  NOT NULL,
    status      TEXT    NOT NULL,
    provider_id TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '',
    release_at  BIGINT  NOT NULL DEFAULT 0
);
-- A delivery's events in order; also how retention deletes them with
-- their delivery.
CREATE INDEX delivery_events_delivery ON delivery_events (delivery_id, at);

-- +goose Down
DROP TABLE delivery_events;
