-- +goose Up
-- Indexes for the paged, filtered lists (issue 18). Every list orders by a column and then id, so that pages are
-- stable; each index below starts with what a list filters on and ends with what it orders by, so that a page
-- reads its rows in order instead of sorting the whole table (the course lists, below, sort one course only).

-- A course's students (the grader report counts each person once, COUNT(DISTINCT user_id), from this index
-- alone) and its enrolments by role, status and method (covered: counting them reads no table row). The lists
-- start from the course's enrolments and sort that course's people, so that a page costs what the course's size
-- makes it, not the site's: there is deliberately no index of users by name, which would tempt the planner to
-- walk every account of the site for a small course.
CREATE INDEX enrolments_course_role_user ON enrolments (course_id, role, user_id, status, method);

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
DROP INDEX enrolments_course_role_user;
