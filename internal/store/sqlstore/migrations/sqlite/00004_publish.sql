-- +goose Up
-- A course or one activity published as an LTI resource.
CREATE TABLE published_resources (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid            TEXT    NOT NULL UNIQUE,
    course_id       BIGINT  NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    activity_id     BIGINT  REFERENCES activities (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    grade_sync      BOOLEAN NOT NULL DEFAULT TRUE,
    member_sync     BOOLEAN NOT NULL DEFAULT FALSE,
    member_sync_mode TEXT   NOT NULL DEFAULT 'enrol_and_unenrol',
    student_mode    TEXT    NOT NULL DEFAULT 'auto',
    teacher_mode    TEXT    NOT NULL DEFAULT 'prompt',
    enrol_start     BIGINT,
    enrol_end       BIGINT,
    max_enrolled    INTEGER NOT NULL DEFAULT 0,
    learner_role    TEXT    NOT NULL DEFAULT 'student',
    instructor_role TEXT    NOT NULL DEFAULT 'teacher',
    default_language    TEXT NOT NULL DEFAULT '',
    default_timezone    TEXT NOT NULL DEFAULT '',
    default_institution TEXT NOT NULL DEFAULT '',
    default_country     TEXT NOT NULL DEFAULT '',
    legacy_secret   TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX published_resources_course ON published_resources (course_id);

-- A platform user (issuer + subject) linked to one local account.
CREATE TABLE lti_users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer          TEXT   NOT NULL,
    subject         TEXT   NOT NULL,
    registration_id BIGINT REFERENCES registrations (id) ON DELETE SET NULL,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    last_launch_at  BIGINT NOT NULL,
    UNIQUE (issuer, subject)
);
CREATE INDEX lti_users_user ON lti_users (user_id);

-- A placement of a published resource in a platform (resource link), with the service endpoints it carries.
CREATE TABLE lti_resource_links (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_id       BIGINT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
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
CREATE INDEX lti_resource_links_resource ON lti_resource_links (published_resource_id);

-- Which platform users reached a resource through which resource link: grade sync sends to each.
CREATE TABLE lti_user_links (
    lti_user_id      BIGINT NOT NULL REFERENCES lti_users (id) ON DELETE CASCADE,
    resource_link_id BIGINT NOT NULL REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    created_at       BIGINT NOT NULL,
    last_launch_at   BIGINT NOT NULL,
    PRIMARY KEY (lti_user_id, resource_link_id)
);
CREATE INDEX lti_user_links_link ON lti_user_links (resource_link_id);

-- +goose Down
DROP TABLE lti_user_links;
DROP TABLE lti_resource_links;
DROP TABLE lti_users;
DROP TABLE published_resources;
