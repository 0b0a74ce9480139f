-- +goose Up
-- An assignment's submission settings (JSON: submission types, file count and size limits); '{}' is online text
-- only, as every assignment was before.
ALTER TABLE activities ADD COLUMN assignment TEXT NOT NULL DEFAULT '{}';

-- Files of assignment submissions, kept in the database rather than in a folder beside it: instances that share
-- a PostgreSQL database then all see every file, a backup of the database holds them, and a submission and its
-- files change in one transaction. Per-file and per-submission size limits keep the table's growth bounded.
CREATE TABLE submission_files (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id BIGINT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    name          TEXT   NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT   NOT NULL,
    data          BLOB   NOT NULL,
    uploaded_at   BIGINT NOT NULL,
    UNIQUE (submission_id, name)
);

-- +goose Down
DROP TABLE submission_files;
ALTER TABLE activities DROP COLUMN assignment;
