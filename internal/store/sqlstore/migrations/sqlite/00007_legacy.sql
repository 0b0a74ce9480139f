-- +goose NO TRANSACTION
-- +goose Up
-- Legacy publishing (LTI 1.1); see the PostgreSQL migration for the model. SQLite cannot drop a NOT NULL
-- constraint, so lti_resource_links is rebuilt the documented way (sqlite.org/lang_altertable.html, "Making
-- Other Kinds Of Table Schema Changes"): foreign keys off on this one connection (hence one statement block and
-- no goose transaction: the pragma is a no-op inside one), new table, copy, drop, rename, indexes, check, on.
-- The tables that reference lti_resource_links keep referring to it by name.
-- +goose StatementBegin
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE lti_resource_links_new (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_id       BIGINT REFERENCES registrations (id) ON DELETE CASCADE,
    deployment_id         TEXT   NOT NULL,
    link_id               TEXT   NOT NULL,
    published_resource_id BIGINT NOT NULL REFERENCES published_resources (id) ON DELETE CASCADE,
    context_id            TEXT   NOT NULL DEFAULT '',
    context_title         TEXT   NOT NULL DEFAULT '',
    title                 TEXT   NOT NULL DEFAULT '',
    lineitems_url         TEXT   NOT NULL DEFAULT '',
    lineitem_url          TEXT   NOT NULL DEFAULT '',
    ags_scopes            TEXT   NOT NULL DEFAULT '',
    memberships_url       TEXT   NOT NULL DEFAULT '',
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    UNIQUE (registration_id, deployment_id, link_id)
);
INSERT INTO lti_resource_links_new SELECT id, registration_id, deployment_id, link_id, published_resource_id, context_id,
    context_title, title, lineitems_url, lineitem_url, ags_scopes, memberships_url, created_at, updated_at FROM lti_resource_links;
DROP TABLE lti_resource_links;
ALTER TABLE lti_resource_links_new RENAME TO lti_resource_links;
CREATE INDEX lti_resource_links_resource ON lti_resource_links (published_resource_id);
CREATE UNIQUE INDEX lti_resource_links_legacy ON lti_resource_links (deployment_id, link_id) WHERE registration_id IS NULL;

CREATE TABLE legacy_links (
    resource_link_id BIGINT PRIMARY KEY REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    consumer_key     TEXT   NOT NULL,
    instance_guid    TEXT   NOT NULL DEFAULT '',
    platform_name    TEXT   NOT NULL DEFAULT '',
    memberships_url  TEXT   NOT NULL DEFAULT '',
    memberships_id   TEXT   NOT NULL DEFAULT '',
    updated_at       BIGINT NOT NULL
);

CREATE TABLE legacy_outcomes (
    resource_link_id BIGINT NOT NULL REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    lti_user_id      BIGINT NOT NULL REFERENCES lti_users (id) ON DELETE CASCADE,
    service_url      TEXT   NOT NULL,
    sourcedid        TEXT   NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (resource_link_id, lti_user_id)
);
COMMIT;
PRAGMA foreign_keys = ON;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE legacy_outcomes;
DROP TABLE legacy_links;
DROP INDEX lti_resource_links_legacy;
DELETE FROM lti_resource_links WHERE registration_id IS NULL;
-- +goose StatementEnd
