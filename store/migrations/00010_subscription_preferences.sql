-- Portable SQL (SQLite and PostgreSQL).
-- A subscription's delivery preferences (issue 16): digests, quiet hours,
-- throttles, pause, channel order.

-- +goose Up
-- preferences: notifyd.Preferences as JSON; '' when the subscription has
-- none (every notification at once to every method, as before).
ALTER TABLE subscriptions ADD COLUMN preferences TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE subscriptions DROP COLUMN preferences;
