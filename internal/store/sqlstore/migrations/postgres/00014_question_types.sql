-- +goose Up
-- Essay questions are graded by a teacher: an attempt keeps the points given to each essay answer (marks, JSON
-- by question id) and is pending until all are given; a grade is pending while the attempts it comes from are,
-- so that grade sync can send it as Pending and then FullyGraded.
ALTER TABLE quiz_attempts ADD COLUMN marks TEXT NOT NULL DEFAULT '{}';
ALTER TABLE quiz_attempts ADD COLUMN pending BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE grades ADD COLUMN pending BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE grade_history ADD COLUMN pending BOOLEAN NOT NULL DEFAULT FALSE;
-- An assignment's cut-off date: after the due date, late submissions are taken until it.
ALTER TABLE activities ADD COLUMN cutoff_at BIGINT;
-- When each attempt of a timed quiz was started (its form first shown), so that the time limit holds across
-- reloads and instances.
CREATE TABLE quiz_starts (
    activity_id BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    started_at  BIGINT NOT NULL,
    PRIMARY KEY (activity_id, user_id, number)
);

-- +goose Down
DROP TABLE quiz_starts;
ALTER TABLE activities DROP COLUMN cutoff_at;
ALTER TABLE grade_history DROP COLUMN pending;
ALTER TABLE grades DROP COLUMN pending;
ALTER TABLE quiz_attempts DROP COLUMN pending;
ALTER TABLE quiz_attempts DROP COLUMN marks;
