-- +goose Up
-- Grade and member sync. River keeps its own job tables (rivermigrate); these are ltipub's side.

-- OAuth access tokens for platform services, shared by every instance until shortly before they expire. The key
-- hashes the token URL, the client ID and the sorted scopes (lti.TokenCacheKey).
CREATE TABLE service_tokens (
    cache_key       TEXT   PRIMARY KEY,
    registration_id BIGINT REFERENCES registrations (id) ON DELETE CASCADE,
    access_token    TEXT   NOT NULL,
    scopes          TEXT   NOT NULL DEFAULT '',
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);

-- Per resource link: the line item grade sync found or created when the launch named no coupled one, and the
-- last complete member sync of the link.
CREATE TABLE sync_links (
    resource_link_id BIGINT PRIMARY KEY REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    lineitem_url     TEXT   NOT NULL DEFAULT '',
    lineitem_created BOOLEAN NOT NULL DEFAULT FALSE,
    members_run_id   BIGINT NOT NULL DEFAULT 0,
    members_synced_at BIGINT NOT NULL DEFAULT 0,
    updated_at       BIGINT NOT NULL
);

-- The score last confirmed by the platform for each user of each resource link: what was sent and when.
-- Grade changes themselves are tracked by grade revisions and grade_sync_marks (target "ags:<line item URL>").
CREATE TABLE sync_scores (
    resource_link_id  BIGINT NOT NULL REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    user_id           BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    lineitem_url      TEXT   NOT NULL,
    score_given       DOUBLE PRECISION,
    score_maximum     DOUBLE PRECISION NOT NULL DEFAULT 0,
    comment           TEXT   NOT NULL DEFAULT '',
    activity_progress TEXT   NOT NULL,
    grading_progress  TEXT   NOT NULL,
    score_timestamp   BIGINT NOT NULL,
    sent_at           BIGINT NOT NULL,
    PRIMARY KEY (resource_link_id, user_id)
);

-- Members that member sync saw active in a resource link's roster, with the run that last saw them. After a
-- complete listing, those of the link not seen by the run lose the enrolments the resource made.
CREATE TABLE sync_members (
    resource_link_id BIGINT NOT NULL REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    lti_user_id      BIGINT NOT NULL REFERENCES lti_users (id) ON DELETE CASCADE,
    run_id           BIGINT NOT NULL,
    PRIMARY KEY (resource_link_id, lti_user_id)
);

-- A readable history of sync runs for the admin Sync page (River's job rows are its own business).
CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    cause       TEXT    NOT NULL,
    resource_id BIGINT,
    job_id      BIGINT  NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT  NOT NULL DEFAULT 0,
    links       INTEGER NOT NULL DEFAULT 0,
    sent        INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    enrolled    INTEGER NOT NULL DEFAULT 0,
    unenrolled  INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sync_runs_kind ON sync_runs (kind, id);

-- +goose Down
DROP TABLE sync_runs;
DROP TABLE sync_members;
DROP TABLE sync_scores;
DROP TABLE sync_links;
DROP TABLE service_tokens;
