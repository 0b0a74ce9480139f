-- +goose Up
-- Failed sign-ins also name the client (its address), so that guessing slows the guessing client down without
-- locking the account's owner out from another one. Rows from before this migration belong to no client ('').
ALTER TABLE login_failures ADD COLUMN client TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_client_at ON login_failures (client, at);

-- +goose Down
DROP INDEX login_failures_client_at;
ALTER TABLE login_failures DROP COLUMN client;
