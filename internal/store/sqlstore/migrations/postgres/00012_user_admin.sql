-- +goose Up
-- Suspension: a suspended account cannot sign in or launch (NULL: not suspended). must_change_password: the next
-- sign-in must choose a new password first (the generated first admin, a password an admin set).
ALTER TABLE users ADD COLUMN suspended_at BIGINT;
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE users DROP COLUMN must_change_password;
ALTER TABLE users DROP COLUMN suspended_at;
