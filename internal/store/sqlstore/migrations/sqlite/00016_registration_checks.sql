-- +goose Up
-- The results of "Check this registration": the only thing a check writes. Results are JSON (a list of steps with
-- their outcome, detail and fix), read back whole for the registration page and the CLI; no query looks inside.
CREATE TABLE registration_checks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_id BIGINT  NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    checked_at      BIGINT  NOT NULL,
    checked_by      TEXT    NOT NULL DEFAULT '',
    passed          BOOLEAN NOT NULL,
    results         TEXT    NOT NULL
);
CREATE INDEX registration_checks_by_registration ON registration_checks (registration_id, checked_at);

-- The platform's name as people know it, for launch log rows without a registration to name it (LTI 1.1 launches:
-- "Moodle", with the consumer key in client_id) and as the launch named it otherwise.
ALTER TABLE launch_log ADD COLUMN platform_name TEXT NOT NULL DEFAULT '';
-- What came in with the launch, for the launch inspector (JSON: the decoded id_token header and claims, never the
-- raw token; or the LTI 1.1 fields without the signature). Emptied after the retention (14 days by default).
ALTER TABLE launch_log ADD COLUMN detail TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE launch_log DROP COLUMN detail;
ALTER TABLE launch_log DROP COLUMN platform_name;
DROP TABLE registration_checks;
