-- +goose Up
-- LTI 1.1 → 1.3 migration (lti1p1 claim) and account merges (issue 22).
-- A 1.3 resource link that a platform migrated from a 1.1 one names its predecessor: the 1.1 link whose grades,
-- enrolments and attempts it carries on (the same published resource, the same accounts).
CREATE TABLE lti_link_predecessors (
    resource_link_id BIGINT PRIMARY KEY REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    predecessor_id   BIGINT NOT NULL REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    consumer_key     TEXT   NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX lti_link_predecessors_predecessor ON lti_link_predecessors (predecessor_id);

-- The 1.1 secrets of a consumer key are found through its legacy links.
CREATE INDEX legacy_links_consumer_key ON legacy_links (consumer_key);

-- Every account merge an admin made: who was kept, who was merged into it (the account is gone, so its name is
-- kept here), by whom, and what moved or was resolved.
CREATE TABLE account_merges (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kept_user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kept_username    TEXT   NOT NULL,
    dropped_user_id  BIGINT NOT NULL,
    dropped_username TEXT   NOT NULL,
    merged_by        TEXT   NOT NULL DEFAULT '',
    summary          TEXT   NOT NULL DEFAULT '',
    merged_at        BIGINT NOT NULL
);

-- +goose Down
DROP TABLE account_merges;
DROP INDEX legacy_links_consumer_key;
DROP TABLE lti_link_predecessors;
