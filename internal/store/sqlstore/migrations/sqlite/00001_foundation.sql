-- +goose Up
-- Times are stored as BIGINT Unix microseconds on both engines: one representation, exact ordering, no driver
-- conversions that differ between SQLite and PostgreSQL.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    email         TEXT    NOT NULL DEFAULT '',
    full_name     TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL DEFAULT '',
    auth          TEXT    NOT NULL DEFAULT 'manual',
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    is_course_creator BOOLEAN NOT NULL DEFAULT FALSE,
    language      TEXT    NOT NULL DEFAULT '',
    timezone      TEXT    NOT NULL DEFAULT '',
    institution   TEXT    NOT NULL DEFAULT '',
    country       TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    last_login_at BIGINT
);

CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The session table is the one alexedwards/scs sqlite3store expects.
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BLOB NOT NULL,
    expiry REAL NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions(expiry);

-- +goose Down
DROP TABLE sessions;
DROP TABLE settings;
DROP TABLE users;
