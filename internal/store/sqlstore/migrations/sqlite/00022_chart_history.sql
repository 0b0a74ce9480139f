-- +goose Up
-- The launch log's charts count entries per hour or day, outcome and code over a month: an index that holds those
-- columns answers them without reading the rows (50,000 launches: see BenchmarkStats).
CREATE INDEX launch_log_chart ON launch_log (at, outcome, stage, registration_id, code);

-- History the admin pages chart (issue 18) and no other table keeps: the other sync tables hold only the latest
-- state (the last score sent, the last refusal, the members the last run saw).

-- The number of active members a complete roster listing found, per member sync run and resource link.
CREATE TABLE roster_sizes (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_link_id BIGINT  NOT NULL REFERENCES lti_resource_links (id) ON DELETE CASCADE,
    run_id           BIGINT  NOT NULL,
    at               BIGINT  NOT NULL,
    members          INTEGER NOT NULL
);
CREATE INDEX roster_sizes_at ON roster_sizes (at, resource_link_id, members);

-- Scores platforms accepted and refused, counted per hour and platform in the transaction that records them.
-- The platform is its registration (LTI 1.3), or the consumer key with registration 0 (LTI 1.1); no foreign key,
-- so that the history outlives a deleted registration.
CREATE TABLE score_counts (
    hour_at         BIGINT  NOT NULL,
    registration_id BIGINT  NOT NULL DEFAULT 0,
    consumer_key    TEXT    NOT NULL DEFAULT '',
    sent            INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour_at, registration_id, consumer_key)
);

-- +goose Down
DROP TABLE score_counts;
DROP TABLE roster_sizes;
DROP INDEX launch_log_chart;
