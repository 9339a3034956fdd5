-- Portable SQL (SQLite and PostgreSQL).

-- Only SMS providers report on a message after accepting it (status
-- callbacks, matched by the message's SID), so only SMS deliveries need an
-- index by provider ID. Every sent email has one too (its Message-ID): as
-- random keys, indexing them cost a random index page written per message.

-- +goose Up
DROP INDEX deliveries_by_provider_id;
CREATE INDEX deliveries_by_sms_provider_id ON deliveries (provider_id) WHERE channel = 'sms';

-- +goose Down
DROP INDEX deliveries_by_sms_provider_id;
CREATE INDEX deliveries_by_provider_id ON deliveries (provider_id);
