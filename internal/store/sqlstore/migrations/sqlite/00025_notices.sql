-- +goose Up
-- Platform Notification Service. One handler per (registration, deployment, notice type): where ltipub asked the
-- platform to send that type of notice, and how the registration went (registered_at 0 and error set while the
-- platform refuses; the background job retries).
CREATE TABLE notice_handlers (
    registration_id BIGINT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    deployment_id   TEXT   NOT NULL,
    notice_type     TEXT   NOT NULL,
    service_url     TEXT   NOT NULL,
    handler_url     TEXT   NOT NULL,
    registered_at   BIGINT NOT NULL DEFAULT 0,
    error           TEXT   NOT NULL DEFAULT '',
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (registration_id, deployment_id, notice_type)
);

-- The verified notices received, for the admin (hello world notices among them). The platform's notice id is
-- unique per registration: a notice sent twice is recorded and acted on once.
CREATE TABLE notices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_id BIGINT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    deployment_id   TEXT   NOT NULL,
    notice_id       TEXT   NOT NULL,
    notice_type     TEXT   NOT NULL,
    context_id      TEXT   NOT NULL DEFAULT '',
    outcome         TEXT   NOT NULL,
    summary         TEXT   NOT NULL DEFAULT '',
    claims          TEXT   NOT NULL,
    received_at     BIGINT NOT NULL,
    UNIQUE (registration_id, notice_id)
);
CREATE INDEX notices_by_registration ON notices (registration_id, id);

-- Contexts (courses) the platform copied from others (LtiContextCopyNotice): a launch from a copied course's link
-- that names no published resource maps through the origin course's links.
CREATE TABLE context_copies (
    registration_id   BIGINT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    deployment_id     TEXT   NOT NULL,
    context_id        TEXT   NOT NULL,
    origin_context_id TEXT   NOT NULL,
    notice_id         TEXT   NOT NULL,
    copied_at         BIGINT NOT NULL,
    PRIMARY KEY (registration_id, deployment_id, context_id, origin_context_id)
);
CREATE INDEX lti_resource_links_context ON lti_resource_links (registration_id, deployment_id, context_id);

-- +goose Down
DROP INDEX lti_resource_links_context;
DROP TABLE context_copies;
DROP TABLE notices;
DROP TABLE notice_handlers;
