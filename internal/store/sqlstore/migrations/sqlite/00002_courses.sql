-- +goose Up
-- Courses, activities, enrolments, completion and the gradebook. Times are BIGINT Unix microseconds, as everywhere.
CREATE TABLE courses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    full_name   TEXT    NOT NULL,
    short_name  TEXT    NOT NULL UNIQUE,
    summary     TEXT    NOT NULL DEFAULT '',
    visible     BOOLEAN NOT NULL DEFAULT TRUE,
    created_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

-- Type-specific settings of a quiz (attempts, grading method, questions) are one JSON document: they are always
-- read and written with the activity, and never queried on their own.
CREATE TABLE activities (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    course_id   BIGINT  NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    visible     BOOLEAN NOT NULL DEFAULT TRUE,
    max_grade   REAL NOT NULL DEFAULT 0,
    body        TEXT    NOT NULL DEFAULT '',
    due_at      BIGINT,
    quiz        TEXT    NOT NULL DEFAULT '{}',
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX activities_course_idx ON activities (course_id, position);

-- An enrolment records how it was made (method) and, for LTI, which published resource made it, so that member
-- sync removes only its own enrolments. A user may hold one enrolment per method and source.
CREATE TABLE enrolments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    course_id   BIGINT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT   NOT NULL,
    status      TEXT   NOT NULL DEFAULT 'active',
    starts_at   BIGINT,
    ends_at     BIGINT,
    method      TEXT   NOT NULL DEFAULT 'manual',
    published_resource_id BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX enrolments_unique_idx ON enrolments (course_id, user_id, method, COALESCE(published_resource_id, 0));
CREATE INDEX enrolments_user_idx ON enrolments (user_id);

CREATE TABLE completions (
    activity_id  BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    completed_at BIGINT NOT NULL,
    PRIMARY KEY (activity_id, user_id)
);

CREATE TABLE quiz_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id  BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    answers      TEXT    NOT NULL,
    score        REAL NOT NULL,
    max_grade    REAL NOT NULL,
    submitted_at BIGINT  NOT NULL,
    UNIQUE (activity_id, user_id, number)
);

CREATE TABLE submissions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id  BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text         TEXT   NOT NULL,
    submitted_at BIGINT NOT NULL,
    UNIQUE (activity_id, user_id)
);

-- One grade per user and graded activity. revision starts at 1 and grows by one on every change, under the row
-- lock of the UPDATE; grade sync compares it with the revision it last sent (grade_sync_marks), which, unlike a
-- time or sequence cursor, cannot skip a change that commits out of order.
CREATE TABLE grades (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grade       REAL NOT NULL,
    max_grade   REAL NOT NULL,
    feedback    TEXT   NOT NULL DEFAULT '',
    graded_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    modified_at BIGINT NOT NULL,
    revision    BIGINT NOT NULL DEFAULT 1,
    UNIQUE (activity_id, user_id)
);
CREATE INDEX grades_user_idx ON grades (user_id);

-- Every change of every grade, for the audit trail.
CREATE TABLE grade_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    grade_id    BIGINT NOT NULL REFERENCES grades (id) ON DELETE CASCADE,
    revision    BIGINT NOT NULL,
    grade       REAL NOT NULL,
    max_grade   REAL NOT NULL,
    feedback    TEXT   NOT NULL DEFAULT '',
    graded_by   BIGINT,
    changed_at  BIGINT NOT NULL
);
CREATE INDEX grade_history_grade_idx ON grade_history (grade_id, revision);

-- The revision of each grade last sent to each sync target (for example one AGS line item).
CREATE TABLE grade_sync_marks (
    target   TEXT   NOT NULL,
    grade_id BIGINT NOT NULL REFERENCES grades (id) ON DELETE CASCADE,
    revision BIGINT NOT NULL,
    PRIMARY KEY (target, grade_id)
);

-- +goose Down
DROP TABLE grade_sync_marks;
DROP TABLE grade_history;
DROP TABLE grades;
DROP TABLE submissions;
DROP TABLE quiz_attempts;
DROP TABLE completions;
DROP TABLE enrolments;
DROP TABLE activities;
DROP TABLE courses;
