-- +goose Up
-- Grade delivery you can trust and watch (issue 13).

-- One grade sender per resource link at a time, across instances: the holder finds or creates the link's line
-- item and sends its scores; others wait for it. The claim expires (a dead instance's claim frees itself) and the
-- holder renews it while it works.
CREATE TABLE sync_link_claims (
    resource_link_id BIGINT PRIMARY KEY REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    holder           TEXT   NOT NULL,
    expires_at       BIGINT NOT NULL
);

-- The last refusal of a user's score on a resource link (the platform's answer in plain words), until a score
-- for them is confirmed. With sync_scores (sent) and grade revisions above their marks (pending) it makes each
-- grade's delivery state: pending -> sent or failed.
CREATE TABLE sync_failures (
    resource_link_id BIGINT NOT NULL REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    error            TEXT   NOT NULL,
    failed_at        BIGINT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (resource_link_id, user_id)
);

-- What a launch left out that sync needs (no grade service, no roster service), for the launch log.
ALTER TABLE launch_log ADD COLUMN warning TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE launch_log DROP COLUMN warning;
DROP TABLE sync_failures;
DROP TABLE sync_link_claims;
