-- +goose Up
-- Indexes for the paged, filtered lists (issue 18). Every list orders by a column and then id, so that pages are
-- stable; each index below starts with what a list filters on and ends with what it orders by, so a page reads
-- its rows in order instead of sorting the whole table.

-- A course's enrolments counted and filtered by role, status and method (the enrolments page, the grader report's
-- students); the unique index (course_id, user_id, …) keeps serving the per-user lookups.
CREATE INDEX enrolments_course_filter ON enrolments (course_id, role, status, method, user_id);
-- Enrolments and grader report order people by name: a large course walks users in this order and stops after a page.
CREATE INDEX users_by_name ON users (full_name, username, id);

-- Launch log filters, newest first (ORDER BY id DESC): outcome, refusal code, platform user, registration.
CREATE INDEX launch_log_outcome_id ON launch_log (outcome, id);
CREATE INDEX launch_log_code_id ON launch_log (code, id);
CREATE INDEX launch_log_subject_id ON launch_log (subject, id);
CREATE INDEX launch_log_registration_id ON launch_log (registration_id, id);

-- Sync run history filtered by kind and status, newest first.
CREATE INDEX sync_runs_kind_status ON sync_runs (kind, status, id);

-- A course's published resources and the platforms list, by name.
CREATE INDEX published_resources_course_name ON published_resources (course_id, name, id);
CREATE INDEX registrations_by_name ON registrations (name, id);

-- +goose Down
DROP INDEX registrations_by_name;
DROP INDEX published_resources_course_name;
DROP INDEX sync_runs_kind_status;
DROP INDEX launch_log_registration_id;
DROP INDEX launch_log_subject_id;
DROP INDEX launch_log_code_id;
DROP INDEX launch_log_outcome_id;
DROP INDEX users_by_name;
DROP INDEX enrolments_course_filter;
