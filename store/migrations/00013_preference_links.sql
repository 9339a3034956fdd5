-- Portable SQL (SQLite and PostgreSQL). Times are unix microseconds.
-- Revoked preference links (issue 16): a subscription's preference links
-- made at or before revoked_at no longer open its preference page. One row
-- per subscription whose links were ever revoked; none per link.

-- +goose Up
CREATE TABLE preference_link_revocations (
    subscription_id TEXT   NOT NULL PRIMARY KEY REFERENCES subscriptions (id) ON DELETE CASCADE,
    revoked_at      BIGINT NOT NULL
);

-- +goose Down
DROP TABLE preference_link_revocations;
