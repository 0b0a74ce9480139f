-- +goose Up
-- The tool's own RSA signing keys. Exactly one is active; a rotated key stays published until retire_at.
CREATE TABLE tool_keys (
    kid         TEXT PRIMARY KEY,
    private_pem TEXT    NOT NULL,
    status      TEXT    NOT NULL,          -- active | previous | retired
    created_at  BIGINT  NOT NULL,
    retire_at   BIGINT
);
CREATE UNIQUE INDEX tool_keys_one_active ON tool_keys (status) WHERE status = 'active';

-- A platform registration: Pending until it has platform details and a deployment.
CREATE TABLE registrations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT   NOT NULL,
    issuer         TEXT   NOT NULL DEFAULT '',
    client_id      TEXT   NOT NULL DEFAULT '',
    jwks_url       TEXT   NOT NULL DEFAULT '',
    token_url      TEXT   NOT NULL DEFAULT '',
    auth_url       TEXT   NOT NULL DEFAULT '',
    token_audience TEXT   NOT NULL DEFAULT '',
    platform_name  TEXT   NOT NULL DEFAULT '',
    product_family TEXT   NOT NULL DEFAULT '',
    reg_token_hash TEXT   NOT NULL DEFAULT '',
    reg_token_expires_at BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
-- One issuer may have several registrations (client IDs), but an (issuer, client ID) pair only one.
CREATE UNIQUE INDEX registrations_issuer_client ON registrations (issuer, client_id) WHERE issuer <> '';

CREATE TABLE deployments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    registration_id BIGINT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    deployment_id   TEXT   NOT NULL,
    name            TEXT   NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    UNIQUE (registration_id, deployment_id)
);

-- OIDC login state, kept server-side so that any instance can finish the launch.
CREATE TABLE lti_states (
    state           TEXT PRIMARY KEY,
    nonce           TEXT   NOT NULL,
    registration_id BIGINT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    target_link_uri TEXT   NOT NULL,
    storage_target  TEXT   NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);
CREATE INDEX lti_states_expires ON lti_states (expires_at);

-- Nonces seen in id_tokens, kept until the token could no longer be valid.
CREATE TABLE lti_nonces (
    issuer     TEXT   NOT NULL,
    nonce      TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, nonce)
);
CREATE INDEX lti_nonces_expires ON lti_nonces (expires_at);

-- Every launch attempt, accepted or refused, for the admin.
CREATE TABLE launch_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              BIGINT NOT NULL,
    registration_id BIGINT,
    issuer          TEXT   NOT NULL DEFAULT '',
    client_id       TEXT   NOT NULL DEFAULT '',
    deployment_id   TEXT   NOT NULL DEFAULT '',
    message_type    TEXT   NOT NULL DEFAULT '',
    subject         TEXT   NOT NULL DEFAULT '',
    stage           TEXT   NOT NULL,          -- login | launch
    outcome         TEXT   NOT NULL,          -- accepted | refused
    code            TEXT   NOT NULL DEFAULT '',
    reason          TEXT   NOT NULL DEFAULT '',
    path            TEXT   NOT NULL DEFAULT '',  -- how the browser was recognised: cookie, platform storage, new window
    request_id      TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX launch_log_at ON launch_log (at);
CREATE INDEX launch_log_registration ON launch_log (registration_id, at);

-- +goose Down
DROP TABLE launch_log;
DROP TABLE lti_nonces;
DROP TABLE lti_states;
DROP TABLE deployments;
DROP TABLE registrations;
DROP TABLE tool_keys;
