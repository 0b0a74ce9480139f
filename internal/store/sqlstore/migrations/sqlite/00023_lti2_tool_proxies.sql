-- +goose Up
-- LTI 2.0 tool proxies (see the PostgreSQL migration for the model).
CREATE TABLE lti2_tool_proxies (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    published_resource_id BIGINT  NOT NULL REFERENCES published_resources (id) ON DELETE CASCADE,
    guid                  TEXT    NOT NULL,
    secret                TEXT    NOT NULL,
    split_secret          BOOLEAN NOT NULL DEFAULT FALSE,
    consumer_name         TEXT    NOT NULL DEFAULT '',
    product_family        TEXT    NOT NULL DEFAULT '',
    profile_url           TEXT    NOT NULL DEFAULT '',
    tool_proxy            TEXT    NOT NULL DEFAULT '',
    created_at            BIGINT  NOT NULL,
    UNIQUE (published_resource_id, guid)
);

-- +goose Down
DROP TABLE lti2_tool_proxies;
