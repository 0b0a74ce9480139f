-- +goose Up
-- Failed sign-ins also name the client (its address), so that guessing slows the guessing client down without
-- locking the account's owner out from another one. Rows from before this migration belong to no client ('').
ALTER TABLE login_failures ADD COLUMN client TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_client_at ON login_failures (client, at);

-- One row: a value sealed with the secrets key (internal/secrets), so that start-up can tell a wrong key from
-- the right one before anything else reads a secret.
CREATE TABLE secrets_check (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    key_id TEXT NOT NULL,
    value  TEXT NOT NULL
);

-- +goose Down
DROP TABLE secrets_check;
DROP INDEX login_failures_client_at;
ALTER TABLE login_failures DROP COLUMN client;
