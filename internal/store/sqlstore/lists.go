package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/tool"
)

// Paged lists (issue 18): every list orders by what people read it by and then by id, so that a page boundary
// never falls between two equal rows (no row twice, none missing), and pages with LIMIT/OFFSET on the indexes of
// migration 00021. Each list counts its matches with the same conditions, for "Showing 51–100 of 5,000".

// conds collects the conditions of a WHERE clause and their arguments; each condition writes its parameters as ?
// and add numbers them after those already there.
type conds struct {
	parts []string
	args  []any
}

func (c *conds) add(cond string, args ...any) {
	for _, a := range args {
		c.args = append(c.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(c.args)), 1)
	}
	c.parts = append(c.parts, cond)
}

// where is the WHERE clause ("" when there is no condition).
func (c *conds) where() string {
	if len(c.parts) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.parts, " AND ")
}

// page appends LIMIT and OFFSET (none for a limit of 0) with their arguments.
func (c *conds) page(limit, offset int) (string, []any) {
	if limit <= 0 {
		return "", c.args
	}
	n := len(c.args)
	return fmt.Sprintf(" LIMIT $%d OFFSET $%d", n+1, n+2), append(append([]any{}, c.args...), limit, max(offset, 0))
}

// personMatch is the search condition over the username, name and email of the users row u (see userMatch).
func (s *Store) personMatch(u string) string {
	if s.engine == Postgres {
		return `(` + u + `.username || ' ' || ` + u + `.full_name || ' ' || ` + u + `.email) ILIKE ? ESCAPE '\'`
	}
	return `(` + u + `.username LIKE ? ESCAPE '\' OR ` + u + `.full_name LIKE ? ESCAPE '\' OR ` + u + `.email LIKE ? ESCAPE '\')`
}

// addPersonMatch adds the search for q over users row u.
func (s *Store) addPersonMatch(c *conds, u, q string) {
	p := likePattern(q)
	if s.engine == Postgres {
		c.add(s.personMatch(u), p)
		return
	}
	c.add(s.personMatch(u), p, p, p)
}

func (s *Store) enrolmentConds(courseID int64, f course.EnrolmentFilter) *conds {
	c := &conds{}
	c.add(`e.course_id = ?`, courseID)
	if f.Role != "" {
		c.add(`e.role = ?`, string(f.Role))
	}
	if f.Status != "" {
		c.add(`e.status = ?`, string(f.Status))
	}
	if f.Method != "" {
		c.add(`e.method = ?`, string(f.Method))
	}
	if f.Query != "" {
		s.addPersonMatch(c, "u", f.Query)
	}
	return c
}

// EnrolmentsPage lists one page of a course's enrolments matching f, by name, username and id, and counts them.
func (s *Store) EnrolmentsPage(ctx context.Context, courseID int64, f course.EnrolmentFilter) ([]course.Enrolment, int, error) {
	c := s.enrolmentConds(courseID, f)
	var n int
	count := `SELECT COUNT(*) FROM enrolments e` + c.where()
	if f.Query != "" {
		count = `SELECT COUNT(*) FROM enrolments e JOIN users u ON u.id = e.user_id` + c.where()
	}
	if err := s.c().row(ctx, count, c.args...).Scan(&n); err != nil {
		return nil, 0, mapErr(err)
	}
	if n == 0 || f.Offset >= n {
		return []course.Enrolment{}, n, nil
	}
	lim, args := c.page(f.Limit, f.Offset)
	rows, err := s.c().query(ctx, `SELECT `+enrolmentColumns+` FROM enrolments e JOIN users u ON u.id = e.user_id`+c.where()+
		` ORDER BY u.full_name, u.username, e.id`+lim, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []course.Enrolment{}
	for rows.Next() {
		e, err := scanEnrolment(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	return out, n, mapErr(rows.Err())
}

// BulkUpdateEnrolments applies one change to the selected enrolments of a course in one transaction: all of them
// change, or (on any error) none.
func (s *Store) BulkUpdateEnrolments(ctx context.Context, courseID int64, ids []int64, ch course.BulkChange) ([]course.Enrolment, error) {
	list, err := jsonParam(ids)
	if err != nil {
		return nil, err
	}
	sel := `e.course_id = $1 AND e.id IN (` + s.jsonList(2, "BIGINT") + `)`
	var changed []course.Enrolment
	err = s.Tx(ctx, func(tx *Store) error {
		var err error
		if changed, err = tx.enrolments(ctx, `WHERE `+sel, courseID, list); err != nil {
			return err
		}
		bare := `course_id = $1 AND id IN (` + s.jsonList(2, "BIGINT") + `)`
		switch ch.Action {
		case course.BulkSuspend:
			_, err = tx.c().exec(ctx, `UPDATE enrolments SET status = $3, updated_at = $4 WHERE `+bare, courseID, list, string(course.StatusSuspended), micros(ch.At))
		case course.BulkReactivate:
			_, err = tx.c().exec(ctx, `UPDATE enrolments SET status = $3, updated_at = $4 WHERE `+bare, courseID, list, string(course.StatusActive), micros(ch.At))
		case course.BulkRole:
			_, err = tx.c().exec(ctx, `UPDATE enrolments SET role = $3, updated_at = $4 WHERE `+bare, courseID, list, string(ch.Role), micros(ch.At))
		case course.BulkUnenrol:
			_, err = tx.c().exec(ctx, `DELETE FROM enrolments WHERE `+bare, courseID, list)
		default:
			err = fmt.Errorf("unknown bulk action %q", ch.Action)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}

// studentName is the order of the grader report: the name people read (the full name, else the username).
const studentName = `CASE WHEN u.full_name = '' THEN u.username ELSE u.full_name END`

func (s *Store) studentConds(courseID int64, query string) *conds {
	c := &conds{}
	c.add(`u.id IN (SELECT e.user_id FROM enrolments e WHERE e.course_id = ? AND e.role = 'student')`, courseID)
	if query != "" {
		s.addPersonMatch(c, "u", query)
	}
	return c
}

// addSubmissionState adds the condition of an assignment's submissions list: each reads one row of submissions
// or grades by their unique (activity_id, user_id) index, so that a page costs no more than the students it
// walks.
func addSubmissionState(c *conds, activityID int64, st course.SubmissionState) {
	const sub = `EXISTS (SELECT 1 FROM submissions s WHERE s.activity_id = ? AND s.user_id = u.id)`
	switch st {
	case course.StateSubmitted:
		c.add(sub, activityID)
	case course.StateNotSubmitted:
		c.add(`NOT `+sub, activityID)
	case course.StateGraded:
		c.add(`EXISTS (SELECT 1 FROM grades g WHERE g.activity_id = ? AND g.user_id = u.id)`, activityID)
	case course.StateNeedsGrading:
		c.add(`EXISTS (SELECT 1 FROM submissions s LEFT JOIN grades g ON g.activity_id = s.activity_id AND g.user_id = s.user_id
			WHERE s.activity_id = ? AND s.user_id = u.id AND (g.id IS NULL OR g.modified_at < s.submitted_at))`, activityID)
	default:
		addAttemptState(c, activityID, st)
	}
}

// addAttemptState adds the condition of a quiz's attempts page: each reads a user's attempts by the unique
// (activity_id, user_id, number) index.
func addAttemptState(c *conds, activityID int64, st course.SubmissionState) {
	const tried = `EXISTS (SELECT 1 FROM quiz_attempts a WHERE a.activity_id = ? AND a.user_id = u.id)`
	const pending = `EXISTS (SELECT 1 FROM quiz_attempts a WHERE a.activity_id = ? AND a.user_id = u.id AND a.pending = TRUE)`
	switch st {
	case course.StateAttempted:
		c.add(tried, activityID)
	case course.StateNotAttempted:
		c.add(`NOT `+tried, activityID)
	case course.StateNeedsMarking:
		c.add(pending, activityID)
	case course.StateFinished:
		c.add(tried, activityID)
		c.add(`NOT `+pending, activityID)
	}
}

func scanStudent(sc scanner, courseID int64) (course.Enrolment, error) {
	e := course.Enrolment{CourseID: courseID, Role: course.RoleStudent}
	if err := sc.Scan(&e.UserID, &e.Username, &e.FullName, &e.Email); err != nil {
		return e, mapErr(err)
	}
	return e, nil
}

// StudentsPage lists one page of a course's students (each person once), by display name and user id.
func (s *Store) StudentsPage(ctx context.Context, courseID int64, f course.StudentFilter) ([]course.Enrolment, int, error) {
	c := s.studentConds(courseID, f.Query)
	if f.Activity != 0 {
		addSubmissionState(c, f.Activity, f.State)
	}
	var n int
	// Without a search, the count reads the index enrolments_course_role_user alone.
	count, countArgs := `SELECT COUNT(DISTINCT e.user_id) FROM enrolments e WHERE e.course_id = $1 AND e.role = 'student'`, []any{courseID}
	if len(c.parts) > 1 {
		count, countArgs = `SELECT COUNT(*) FROM users u`+c.where(), c.args
	}
	if err := s.c().row(ctx, count, countArgs...).Scan(&n); err != nil {
		return nil, 0, mapErr(err)
	}
	out := []course.Enrolment{}
	if n == 0 || f.Offset >= n {
		return out, n, nil
	}
	lim, args := c.page(f.Limit, f.Offset)
	rows, err := s.c().query(ctx, `SELECT u.id, u.username, u.full_name, u.email FROM users u`+c.where()+
		` ORDER BY `+studentName+`, u.id`+lim, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanStudent(rows, courseID)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	return out, n, mapErr(rows.Err())
}

// EachStudent reads a course's students in the report's order and hands them to fn size at a time. The rows are
// read from one open query as fn goes; fn's own queries use other connections of the pool.
func (s *Store) EachStudent(ctx context.Context, courseID int64, size int, fn func([]course.Enrolment) error) error {
	c := s.studentConds(courseID, "")
	rows, err := s.c().query(ctx, `SELECT u.id, u.username, u.full_name, u.email FROM users u`+c.where()+
		` ORDER BY `+studentName+`, u.id`, c.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	batch := make([]course.Enrolment, 0, size)
	for rows.Next() {
		e, err := scanStudent(rows, courseID)
		if err != nil {
			return err
		}
		if batch = append(batch, e); len(batch) == size {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return mapErr(err)
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

// GradesOfUsers lists the grades some users hold in a course's activities.
func (s *Store) GradesOfUsers(ctx context.Context, courseID int64, userIDs []int64) ([]course.Grade, error) {
	list, err := jsonParam(userIDs)
	if err != nil {
		return nil, err
	}
	return s.courseGrades(ctx, `SELECT `+courseGradeColumns+` FROM grades g JOIN activities a ON a.id = g.activity_id
		WHERE a.course_id = $1 AND g.user_id IN (`+s.jsonList(2, "BIGINT")+`) ORDER BY g.id`, courseID, list)
}

// LaunchLogPage lists one page of the launch log matching f, newest first (by id, which grows with time), and
// counts the matches.
func (s *Store) LaunchLogPage(ctx context.Context, f launch.LogFilter) ([]launch.LogEntry, int, error) {
	c := &conds{}
	if f.RegistrationID != 0 {
		c.add(`l.registration_id = ?`, f.RegistrationID)
	}
	if f.Outcome != "" {
		c.add(`l.outcome = ?`, f.Outcome)
	}
	if f.Code != "" {
		c.add(`l.code = ?`, f.Code)
	}
	if f.User != "" {
		// The subject IN (…) names the few subjects in question, so that the log is read through its subject index;
		// the second condition keeps, of an account's subjects, those of its own platform (subjects are unique per
		// issuer only).
		c.add(`l.subject IN (SELECT CAST(? AS TEXT) UNION SELECT lu.subject FROM lti_users lu JOIN users u ON u.id = lu.user_id
			WHERE u.username = ?)`, f.User, f.User)
		c.add(`(l.subject = ? OR EXISTS (SELECT 1 FROM lti_users lu JOIN users u ON u.id = lu.user_id
			WHERE lu.issuer = l.issuer AND lu.subject = l.subject AND u.username = ?))`, f.User, f.User)
	}
	if !f.From.IsZero() {
		c.add(`l.at >= ?`, micros(f.From))
	}
	if !f.To.IsZero() {
		c.add(`l.at < ?`, micros(f.To))
	}
	var n int
	if err := s.c().row(ctx, `SELECT COUNT(*) FROM launch_log l`+c.where(), c.args...).Scan(&n); err != nil {
		return nil, 0, mapErr(err)
	}
	out := []launch.LogEntry{}
	if n == 0 || f.Offset >= n {
		return out, n, nil
	}
	lim, args := c.page(max(f.Limit, 1), f.Offset)
	rows, err := s.c().query(ctx, `SELECT l.id, l.at, l.registration_id, l.issuer, l.client_id, l.deployment_id, l.message_type,
		l.subject, l.stage, l.outcome, l.code, l.reason, l.path, l.request_id, l.platform_name, l.warning FROM launch_log l`+
		c.where()+` ORDER BY l.id DESC`+lim, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var e launch.LogEntry
		var at int64
		var reg sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &reg, &e.Issuer, &e.ClientID, &e.DeploymentID, &e.MessageType, &e.Subject,
			&e.Stage, &e.Outcome, &e.Code, &e.Reason, &e.Path, &e.RequestID, &e.PlatformName, &e.Warning); err != nil {
			return nil, 0, mapErr(err)
		}
		e.At, e.RegistrationID = fromMicros(at), reg.Int64
		out = append(out, e)
	}
	return out, n, mapErr(rows.Err())
}

// LaunchCodes lists the refusal codes the launch log holds, for the log's filter menu.
func (s *Store) LaunchCodes(ctx context.Context) ([]string, error) {
	rows, err := s.c().query(ctx, `SELECT DISTINCT code FROM launch_log WHERE code <> '' ORDER BY code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// RunsPage lists one page of the sync run history matching f, newest first, and counts the matches.
func (s *Store) RunsPage(ctx context.Context, f jobs.RunFilter) ([]jobs.Run, int, error) {
	c := &conds{}
	if f.Kind != "" {
		c.add(`kind = ?`, string(f.Kind))
	}
	if f.Status != "" {
		c.add(`status = ?`, f.Status)
	}
	if f.Cause != "" {
		c.add(`cause = ?`, string(f.Cause))
	}
	var n int
	if err := s.c().row(ctx, `SELECT COUNT(*) FROM sync_runs`+c.where(), c.args...).Scan(&n); err != nil {
		return nil, 0, mapErr(err)
	}
	out := []jobs.Run{}
	if n == 0 || f.Offset >= n {
		return out, n, nil
	}
	lim, args := c.page(max(f.Limit, 1), f.Offset)
	rows, err := s.c().query(ctx, `SELECT `+runColumns+` FROM sync_runs`+c.where()+` ORDER BY id DESC`+lim, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, n, mapErr(rows.Err())
}

// ResourcesPage lists one page of a course's published resources matching f, by name and id.
func (s *Store) ResourcesPage(ctx context.Context, courseID int64, f publish.ResourceFilter) ([]publish.Resource, int, error) {
	c := &conds{}
	c.add(`course_id = ?`, courseID)
	if f.Query != "" {
		op := "LIKE"
		if s.engine == Postgres {
			op = "ILIKE"
		}
		c.add(`name `+op+` ? ESCAPE '\'`, likePattern(f.Query))
	}
	switch f.Enabled {
	case "yes":
		c.add(`enabled`)
	case "no":
		c.add(`NOT enabled`)
	}
	var n int
	if err := s.c().row(ctx, `SELECT COUNT(*) FROM published_resources`+c.where(), c.args...).Scan(&n); err != nil {
		return nil, 0, mapErr(err)
	}
	out := []publish.Resource{}
	if n == 0 || f.Offset >= n {
		return out, n, nil
	}
	lim, args := c.page(max(f.Limit, 1), f.Offset)
	rows, err := s.c().query(ctx, `SELECT `+resourceColumns+` FROM published_resources`+c.where()+` ORDER BY name, id`+lim, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := s.scanResource(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, n, mapErr(rows.Err())
}

// registrationActive is tool.Registration.Active in SQL: platform details and a deployment.
const registrationActive = `(r.issuer <> '' AND r.client_id <> '' AND r.jwks_url <> '' AND r.auth_url <> ''
	AND EXISTS (SELECT 1 FROM deployments d WHERE d.registration_id = r.id))`

// RegistrationsPage lists one page of the registrations matching f, by name and id, with their deployments.
func (s *Store) RegistrationsPage(ctx context.Context, f tool.RegistrationFilter) ([]tool.Registration, int, error) {
	c := &conds{}
	if f.Query != "" {
		p := likePattern(f.Query)
		if s.engine == Postgres {
			c.add(`(r.name || ' ' || r.issuer || ' ' || r.client_id) ILIKE ? ESCAPE '\'`, p)
		} else {
			c.add(`(r.name LIKE ? ESCAPE '\' OR r.issuer LIKE ? ESCAPE '\' OR r.client_id LIKE ? ESCAPE '\')`, p, p, p)
		}
	}
	switch f.Status {
	case "Active":
		c.add(registrationActive)
	case "Pending":
		c.add(`NOT ` + registrationActive)
	}
	var n int
	if err := s.c().row(ctx, `SELECT COUNT(*) FROM registrations r`+c.where(), c.args...).Scan(&n); err != nil {
		return nil, 0, mapErr(err)
	}
	if n == 0 || f.Offset >= n {
		return []tool.Registration{}, n, nil
	}
	lim, args := c.page(max(f.Limit, 1), f.Offset)
	regs, err := s.listRegistrations(ctx, `SELECT `+prefixed("r.", registrationColumns)+` FROM registrations r`+c.where()+` ORDER BY r.name, r.id`+lim, args...)
	return regs, n, err
}
