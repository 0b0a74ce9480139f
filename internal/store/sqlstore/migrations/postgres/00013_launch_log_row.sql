-- +goose Up
-- A launch writes one launch log row: the login inserts it and the launch that claims the login's state updates
-- it, so the state row carries the row's ID (0 for states made before this migration: their launch inserts).
ALTER TABLE lti_states ADD COLUMN log_id BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE lti_states DROP COLUMN log_id;
