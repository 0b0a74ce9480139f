-- +goose Up
-- Legacy publishing (LTI 1.1). A 1.1 platform has no registration: it is known by its consumer key (and instance
-- GUID), written as a platform identity "lti11:<key>[:<guid>]" (lti11.PlatformID). Its users are lti_users rows
-- with that identity as issuer and no registration; its resource links are lti_resource_links rows with no
-- registration and the identity as deployment_id, so that enrolments, grade marks, sent scores and roster
-- memberships work for both versions through the same tables. Nonces go to lti_nonces (issuer "lti11:<key>").
ALTER TABLE lti_resource_links ALTER COLUMN registration_id DROP NOT NULL;
CREATE UNIQUE INDEX lti_resource_links_legacy ON lti_resource_links (deployment_id, link_id) WHERE registration_id IS NULL;

-- What a 1.1 resource link carries besides: the consumer key to sign with, and the memberships extension.
CREATE TABLE legacy_links (
    resource_link_id BIGINT PRIMARY KEY REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    consumer_key     TEXT   NOT NULL,
    instance_guid    TEXT   NOT NULL DEFAULT '',
    platform_name    TEXT   NOT NULL DEFAULT '',
    memberships_url  TEXT   NOT NULL DEFAULT '',
    memberships_id   TEXT   NOT NULL DEFAULT '',
    updated_at       BIGINT NOT NULL
);

-- Basic Outcomes: where each user's grade for a 1.1 resource link goes.
CREATE TABLE legacy_outcomes (
    resource_link_id BIGINT NOT NULL REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    lti_user_id      BIGINT NOT NULL REFERENCES lti_users (id) ON DELETE CASCADE,
    service_url      TEXT   NOT NULL,
    sourcedid        TEXT   NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (resource_link_id, lti_user_id)
);

-- +goose Down
DROP TABLE legacy_outcomes;
DROP TABLE legacy_links;
DROP INDEX lti_resource_links_legacy;
DELETE FROM lti_resource_links WHERE registration_id IS NULL;
ALTER TABLE lti_resource_links ALTER COLUMN registration_id SET NOT NULL;
