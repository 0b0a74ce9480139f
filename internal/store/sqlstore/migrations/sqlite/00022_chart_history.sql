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

-- Grades per activity and tenth of the maximum grade (band 0: 0–9% … band 9: 90–100%), for the grader report's
-- chart. Triggers on grades keep it, so that the chart reads ten rows per activity however many grades there are
-- (counting 50,000 grades row by row took longer than the grader report's whole page may). Every grade recorded
-- counts, as in the gradebook: a learner unenrolled since keeps theirs. A decrement only updates (never inserts),
-- so that deleting an activity or a user, whose grades go by cascade, never writes a row for what is going. (No
-- INSERT OR IGNORE in the triggers: the upsert that writes a grade would impose its own conflict handling on it.)
CREATE TABLE grade_bands (
    activity_id BIGINT  NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    band        INTEGER NOT NULL,
    grades      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (activity_id, band)
);
INSERT INTO grade_bands (activity_id, band, grades)
    SELECT activity_id, MIN(9, CASE WHEN g.grade >= g.max_grade THEN 9 WHEN g.grade <= 0 THEN 0 ELSE CAST(g.grade * 10 / g.max_grade + 0.000001 AS INTEGER) END) AS band, COUNT(*) FROM grades g WHERE max_grade > 0 GROUP BY activity_id, band;

-- +goose StatementBegin
CREATE TRIGGER grade_bands_insert AFTER INSERT ON grades WHEN NEW.max_grade > 0 BEGIN
    INSERT INTO grade_bands (activity_id, band, grades) SELECT NEW.activity_id, MIN(9, CASE WHEN NEW.grade >= NEW.max_grade THEN 9 WHEN NEW.grade <= 0 THEN 0 ELSE CAST(NEW.grade * 10 / NEW.max_grade + 0.000001 AS INTEGER) END), 0
        WHERE NOT EXISTS (SELECT 1 FROM grade_bands WHERE activity_id = NEW.activity_id AND band = MIN(9, CASE WHEN NEW.grade >= NEW.max_grade THEN 9 WHEN NEW.grade <= 0 THEN 0 ELSE CAST(NEW.grade * 10 / NEW.max_grade + 0.000001 AS INTEGER) END));
    UPDATE grade_bands SET grades = grades + 1 WHERE activity_id = NEW.activity_id AND band = MIN(9, CASE WHEN NEW.grade >= NEW.max_grade THEN 9 WHEN NEW.grade <= 0 THEN 0 ELSE CAST(NEW.grade * 10 / NEW.max_grade + 0.000001 AS INTEGER) END);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER grade_bands_update AFTER UPDATE OF activity_id, grade, max_grade ON grades BEGIN
    UPDATE grade_bands SET grades = grades - 1
        WHERE OLD.max_grade > 0 AND activity_id = OLD.activity_id AND band = MIN(9, CASE WHEN OLD.grade >= OLD.max_grade THEN 9 WHEN OLD.grade <= 0 THEN 0 ELSE CAST(OLD.grade * 10 / OLD.max_grade + 0.000001 AS INTEGER) END);
    INSERT INTO grade_bands (activity_id, band, grades) SELECT NEW.activity_id, MIN(9, CASE WHEN NEW.grade >= NEW.max_grade THEN 9 WHEN NEW.grade <= 0 THEN 0 ELSE CAST(NEW.grade * 10 / NEW.max_grade + 0.000001 AS INTEGER) END), 0
        WHERE NEW.max_grade > 0 AND NOT EXISTS (SELECT 1 FROM grade_bands WHERE activity_id = NEW.activity_id AND band = MIN(9, CASE WHEN NEW.grade >= NEW.max_grade THEN 9 WHEN NEW.grade <= 0 THEN 0 ELSE CAST(NEW.grade * 10 / NEW.max_grade + 0.000001 AS INTEGER) END));
    UPDATE grade_bands SET grades = grades + 1
        WHERE NEW.max_grade > 0 AND activity_id = NEW.activity_id AND band = MIN(9, CASE WHEN NEW.grade >= NEW.max_grade THEN 9 WHEN NEW.grade <= 0 THEN 0 ELSE CAST(NEW.grade * 10 / NEW.max_grade + 0.000001 AS INTEGER) END);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER grade_bands_delete AFTER DELETE ON grades WHEN OLD.max_grade > 0 BEGIN
    UPDATE grade_bands SET grades = grades - 1 WHERE activity_id = OLD.activity_id AND band = MIN(9, CASE WHEN OLD.grade >= OLD.max_grade THEN 9 WHEN OLD.grade <= 0 THEN 0 ELSE CAST(OLD.grade * 10 / OLD.max_grade + 0.000001 AS INTEGER) END);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER grade_bands_delete;
DROP TRIGGER grade_bands_update;
DROP TRIGGER grade_bands_insert;
DROP TABLE grade_bands;
DROP TABLE score_counts;
DROP TABLE roster_sizes;
DROP INDEX launch_log_chart;
