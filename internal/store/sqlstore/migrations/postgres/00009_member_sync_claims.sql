-- +goose Up
-- Member sync safety (issue 23).

-- At most one member sync per resource link at a time, across the CLI, Run now, the periodic job and every
-- instance: a run claims the link here, renews expires_at while it works (heartbeat), and deletes its row when it
-- ends. A run whose process died leaves a row that expires after the lease; the next run takes it over.
CREATE TABLE member_sync_claims (
    resource_link_id BIGINT PRIMARY KEY REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    run_id           BIGINT NOT NULL,
    started_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);

-- Unenrolments held back by the safety valve (a run that would unenrol more than the allowed share of a link's
-- members), until an admin confirms them on the Sync page or runs `ltipub sync members --force`.
CREATE TABLE member_sync_holds (
    resource_link_id      BIGINT  PRIMARY KEY REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    published_resource_id BIGINT  NOT NULL,
    run_id                BIGINT  NOT NULL,
    would_unenrol         INTEGER NOT NULL,
    members               INTEGER NOT NULL,
    reason                TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL
);

-- Runs: unenrolments held, notes that are not errors (a link left to a run already under way), and when the
-- counts were last saved while the run went on.
ALTER TABLE sync_runs ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_runs ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sync_runs DROP COLUMN updated_at;
ALTER TABLE sync_runs DROP COLUMN note;
ALTER TABLE sync_runs DROP COLUMN held;
DROP TABLE member_sync_holds;
DROP TABLE member_sync_claims;
