-- +goose Up
-- Failed sign-ins per username, so that password guessing is slowed down on every instance alike.
CREATE TABLE login_failures (
    username TEXT   NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX login_failures_username_at ON login_failures (username, at);

-- +goose Down
DROP TABLE login_failures;
