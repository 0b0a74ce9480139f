package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ltipub/ltipub/internal/course"
)

// Courses, activities, enrolments and completion. Grades and attempts are in grades.go.

type scanner interface{ Scan(...any) error }

const courseColumns = `id, full_name, short_name, summary, visible, created_by, created_at, updated_at, language`

func scanCourse(sc scanner) (course.Course, error) {
	var c course.Course
	var by sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.FullName, &c.ShortName, &c.Summary, &c.Visible, &by, &created, &updated, &c.Language); err != nil {
		return course.Course{}, mapErr(err)
	}
	c.CreatedBy, c.CreatedAt, c.UpdatedAt = by.Int64, fromMicros(created), fromMicros(updated)
	return c, nil
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

func insertCourse(ctx context.Context, c conn, co *course.Course, teacher *course.Enrolment) error {
	id, err := c.insertID(ctx, `INSERT INTO courses (full_name, short_name, summary, visible, created_by, created_at, updated_at, language)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		co.FullName, co.ShortName, co.Summary, co.Visible, nullID(co.CreatedBy), micros(co.CreatedAt), micros(co.UpdatedAt), co.Language)
	if err != nil {
		return err
	}
	co.ID = id
	if teacher != nil {
		teacher.CourseID = id
		return insertEnrolment(ctx, c, teacher)
	}
	return nil
}

// CreateCourse inserts a course and, when given, its creator's enrolment, in one transaction.
func (s *Store) CreateCourse(ctx context.Context, co *course.Course, teacher *course.Enrolment) error {
	return s.inTx(ctx, func(c conn) error { return insertCourse(ctx, c, co, teacher) })
}

// ImportCourse inserts a course, its activities in order and the teacher's enrolment, all or nothing.
func (s *Store) ImportCourse(ctx context.Context, co *course.Course, acts []*course.Activity, teacher *course.Enrolment) error {
	return s.inTx(ctx, func(c conn) error {
		if err := insertCourse(ctx, c, co, teacher); err != nil {
			return err
		}
		for i, a := range acts {
			a.CourseID = co.ID
			if err := insertActivity(ctx, c, a); err != nil {
				return fmt.Errorf("activity %d: %w", i, err)
			}
		}
		return nil
	})
}

// UpdateCourse saves a course's fields.
func (s *Store) UpdateCourse(ctx context.Context, co course.Course) error {
	res, err := s.c().exec(ctx, `UPDATE courses SET full_name = $2, short_name = $3, summary = $4, visible = $5, updated_at = $6,
		language = $7 WHERE id = $1`, co.ID, co.FullName, co.ShortName, co.Summary, co.Visible, micros(co.UpdatedAt), co.Language)
	if err != nil {
		return err
	}
	return affectedOne(res)
}

// CourseByID loads one course.
func (s *Store) CourseByID(ctx context.Context, id int64) (course.Course, error) {
	return memoized(ctx, "course:"+strconv.FormatInt(id, 10), func() (course.Course, error) {
		return scanCourse(s.c().row(ctx, `SELECT `+courseColumns+` FROM courses WHERE id = $1`, id))
	})
}

// ListCourses lists every course by full name.
func (s *Store) ListCourses(ctx context.Context) ([]course.Course, error) {
	return s.courses(ctx, `SELECT `+courseColumns+` FROM courses ORDER BY full_name, id`)
}

func (s *Store) courses(ctx context.Context, query string, args ...any) ([]course.Course, error) {
	rows, err := s.c().query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []course.Course
	for rows.Next() {
		c, err := scanCourse(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// CoursesOfUser lists the courses a user has any enrolment in, and those enrolments.
func (s *Store) CoursesOfUser(ctx context.Context, userID int64) ([]course.Course, []course.Enrolment, error) {
	cs, err := s.courses(ctx, `SELECT `+courseColumns+` FROM courses
		WHERE id IN (SELECT course_id FROM enrolments WHERE user_id = $1) ORDER BY full_name, id`, userID)
	if err != nil {
		return nil, nil, err
	}
	es, err := s.enrolments(ctx, `WHERE e.user_id = $1`, userID)
	return cs, es, err
}

const activityColumns = `id, course_id, position, type, name, description, visible, max_grade, body, due_at, quiz,
	created_at, updated_at, cutoff_at, assignment`

func scanActivity(sc scanner) (course.Activity, error) {
	var a course.Activity
	var typ, quiz, asg string
	var due, cutoff sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&a.ID, &a.CourseID, &a.Position, &typ, &a.Name, &a.Description, &a.Visible, &a.MaxGrade, &a.Body,
		&due, &quiz, &created, &updated, &cutoff, &asg); err != nil {
		return course.Activity{}, mapErr(err)
	}
	a.Type, a.DueAt, a.CreatedAt, a.UpdatedAt = course.Type(typ), fromNullMicros(due), fromMicros(created), fromMicros(updated)
	a.CutoffAt = fromNullMicros(cutoff)
	if err := json.Unmarshal([]byte(quiz), &a.Quiz); err != nil {
		return course.Activity{}, fmt.Errorf("activity %d: decode quiz settings: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(asg), &a.Assignment); err != nil {
		return course.Activity{}, fmt.Errorf("activity %d: decode assignment settings: %w", a.ID, err)
	}
	return a, nil
}

func quizJSON(a *course.Activity) (string, error) {
	if a.Type != course.TypeQuiz {
		return "{}", nil
	}
	b, err := json.Marshal(a.Quiz)
	return string(b), err
}

func insertActivity(ctx context.Context, c conn, a *course.Activity) error {
	quiz, err := quizJSON(a)
	if err != nil {
		return err
	}
	asgJSON, err := json.Marshal(a.Assignment)
	if err != nil {
		return fmt.Errorf("encode assignment settings: %w", err)
	}
	asg := string(asgJSON)
	err = c.row(ctx, `INSERT INTO activities (course_id, position, type, name, description, visible, max_grade, body, due_at,
		quiz, created_at, updated_at, cutoff_at, assignment)
		VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM activities WHERE course_id = $1), $2, $3, $4, $5, $6, $7, $8,
		$9, $10, $11, $12, $13) RETURNING id, position`,
		a.CourseID, string(a.Type), a.Name, a.Description, a.Visible, a.MaxGrade, a.Body, nullMicros(a.DueAt), quiz,
		micros(a.CreatedAt), micros(a.UpdatedAt), nullMicros(a.CutoffAt), asg).Scan(&a.ID, &a.Position)
	return mapErr(err)
}

// CreateActivity appends an activity to its course.
func (s *Store) CreateActivity(ctx context.Context, a *course.Activity) error {
	// In a transaction: on SQLite that takes the write lock first, so two appends cannot pick the same position.
	return s.inTx(ctx, func(c conn) error { return insertActivity(ctx, c, a) })
}

// UpdateActivity saves an activity's fields (not its course or position).
func (s *Store) UpdateActivity(ctx context.Context, a course.Activity) error {
	quiz, err := quizJSON(&a)
	if err != nil {
		return err
	}
	asgJSON, err := json.Marshal(a.Assignment)
	if err != nil {
		return fmt.Errorf("encode assignment settings: %w", err)
	}
	asg := string(asgJSON)
	res, err := s.c().exec(ctx, `UPDATE activities SET name = $2, description = $3, visible = $4, max_grade = $5, body = $6,
		due_at = $7, quiz = $8, updated_at = $9, cutoff_at = $10, assignment = $11 WHERE id = $1`,
		a.ID, a.Name, a.Description, a.Visible, a.MaxGrade, a.Body, nullMicros(a.DueAt), quiz, micros(a.UpdatedAt), nullMicros(a.CutoffAt), asg)
	if err != nil {
		return err
	}
	return affectedOne(res)
}

// ActivityByID loads one activity.
func (s *Store) ActivityByID(ctx context.Context, id int64) (course.Activity, error) {
	return memoized(ctx, "activity:"+strconv.FormatInt(id, 10), func() (course.Activity, error) {
		return scanActivity(s.c().row(ctx, `SELECT `+activityColumns+` FROM activities WHERE id = $1`, id))
	})
}

// ListActivities lists a course's activities in order.
func (s *Store) ListActivities(ctx context.Context, courseID int64) ([]course.Activity, error) {
	rows, err := s.c().query(ctx, `SELECT `+activityColumns+` FROM activities WHERE course_id = $1 ORDER BY position, id`, courseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []course.Activity
	for rows.Next() {
		a, err := scanActivity(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

// MoveActivity swaps an activity's position with its neighbour's; at either end it does nothing.
func (s *Store) MoveActivity(ctx context.Context, id int64, delta int) error {
	return s.inTx(ctx, func(c conn) error {
		var courseID int64
		var pos int
		if err := c.row(ctx, `SELECT course_id, position FROM activities WHERE id = $1`, id).Scan(&courseID, &pos); err != nil {
			return mapErr(err)
		}
		q := `SELECT id, position FROM activities WHERE course_id = $1 AND position < $2 ORDER BY position DESC LIMIT 1`
		if delta > 0 {
			q = `SELECT id, position FROM activities WHERE course_id = $1 AND position > $2 ORDER BY position LIMIT 1`
		}
		var otherID int64
		var otherPos int
		err := c.row(ctx, q, courseID, pos).Scan(&otherID, &otherPos)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return mapErr(err)
		}
		if _, err := c.exec(ctx, `UPDATE activities SET position = $2 WHERE id = $1`, id, otherPos); err != nil {
			return err
		}
		_, err = c.exec(ctx, `UPDATE activities SET position = $2 WHERE id = $1`, otherID, pos)
		return err
	})
}

// ActivityDependents counts the published resources, grades, attempts, submissions and completions of an activity.
func (s *Store) ActivityDependents(ctx context.Context, id int64) (course.Dependents, error) {
	var d course.Dependents
	err := s.c().row(ctx, `SELECT
		(SELECT COUNT(*) FROM published_resources WHERE activity_id = $1),
		(SELECT COUNT(*) FROM grades WHERE activity_id = $1),
		(SELECT COUNT(*) FROM quiz_attempts WHERE activity_id = $1),
		(SELECT COUNT(*) FROM submissions WHERE activity_id = $1),
		(SELECT COUNT(*) FROM completions WHERE activity_id = $1)`, id).
		Scan(&d.Published, &d.Grades, &d.Attempts, &d.Submissions, &d.Completions)
	return d, mapErr(err)
}

// DeleteActivity deletes an activity and, by the foreign keys' cascades, what depends on it, unless it is
// published: the check and the delete share one transaction, and on PostgreSQL the activity row is locked first
// so that a publish committing in between waits for the delete (and then fails on its foreign key).
func (s *Store) DeleteActivity(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `UPDATE activities SET updated_at = updated_at WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if err := affectedOne(res); err != nil {
			return err
		}
		var n int
		if err := c.row(ctx, `SELECT COUNT(*) FROM published_resources WHERE activity_id = $1`, id).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n > 0 {
			return course.ErrPublished
		}
		_, err = c.exec(ctx, `DELETE FROM activities WHERE id = $1`, id)
		return err
	})
}

const enrolmentColumns = `e.id, e.course_id, e.user_id, e.role, e.status, e.starts_at, e.ends_at, e.method,
	e.published_resource_id, e.created_at, e.updated_at, u.username, u.full_name, u.email`

func scanEnrolment(sc scanner) (course.Enrolment, error) {
	var e course.Enrolment
	var role, status, method string
	var start, end, res sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&e.ID, &e.CourseID, &e.UserID, &role, &status, &start, &end, &method, &res, &created, &updated,
		&e.Username, &e.FullName, &e.Email); err != nil {
		return course.Enrolment{}, mapErr(err)
	}
	e.Role, e.Status, e.Method = course.Role(role), course.Status(status), course.Method(method)
	e.Start, e.End, e.PublishedResourceID = fromNullMicros(start), fromNullMicros(end), res.Int64
	e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
	return e, nil
}

func insertEnrolment(ctx context.Context, c conn, e *course.Enrolment) error {
	id, err := c.insertID(ctx, `INSERT INTO enrolments (course_id, user_id, role, status, starts_at, ends_at, method,
		published_resource_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		e.CourseID, e.UserID, string(e.Role), string(e.Status), nullMicros(e.Start), nullMicros(e.End), string(e.Method),
		nullID(e.PublishedResourceID), micros(e.CreatedAt), micros(e.UpdatedAt))
	if err != nil {
		return err
	}
	e.ID = id
	return nil
}

// CreateEnrolment inserts an enrolment; ErrAlreadyExists when the user has one by the same method and source.
func (s *Store) CreateEnrolment(ctx context.Context, e *course.Enrolment) error {
	return insertEnrolment(ctx, s.c(), e)
}

// UpdateEnrolment saves an enrolment's role, status and window.
func (s *Store) UpdateEnrolment(ctx context.Context, e course.Enrolment) error {
	res, err := s.c().exec(ctx, `UPDATE enrolments SET role = $2, status = $3, starts_at = $4, ends_at = $5, updated_at = $6
		WHERE id = $1`, e.ID, string(e.Role), string(e.Status), nullMicros(e.Start), nullMicros(e.End), micros(e.UpdatedAt))
	if err != nil {
		return err
	}
	return affectedOne(res)
}

// DeleteEnrolment removes an enrolment.
func (s *Store) DeleteEnrolment(ctx context.Context, id int64) error {
	res, err := s.c().exec(ctx, `DELETE FROM enrolments WHERE id = $1`, id)
	if err != nil {
		return err
	}
	return affectedOne(res)
}

func (s *Store) enrolments(ctx context.Context, where string, args ...any) ([]course.Enrolment, error) {
	rows, err := s.c().query(ctx, `SELECT `+enrolmentColumns+` FROM enrolments e JOIN users u ON u.id = e.user_id `+where+
		` ORDER BY u.full_name, u.username, e.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []course.Enrolment
	for rows.Next() {
		e, err := scanEnrolment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// EnrolmentByID loads one enrolment.
func (s *Store) EnrolmentByID(ctx context.Context, id int64) (course.Enrolment, error) {
	es, err := s.enrolments(ctx, `WHERE e.id = $1`, id)
	if err != nil {
		return course.Enrolment{}, err
	}
	if len(es) == 0 {
		return course.Enrolment{}, mapErr(sql.ErrNoRows)
	}
	return es[0], nil
}

// EnrolmentsOf lists one user's enrolments in one course (any method, any status).
func (s *Store) EnrolmentsOf(ctx context.Context, courseID, userID int64) ([]course.Enrolment, error) {
	es, err := memoized(ctx, "enrolments:"+strconv.FormatInt(courseID, 10)+":"+strconv.FormatInt(userID, 10), func() ([]course.Enrolment, error) {
		return s.enrolments(ctx, `WHERE e.course_id = $1 AND e.user_id = $2`, courseID, userID)
	})
	return slices.Clone(es), err
}

// ListEnrolments lists a course's enrolments by name.
func (s *Store) ListEnrolments(ctx context.Context, courseID int64) ([]course.Enrolment, error) {
	return s.enrolments(ctx, `WHERE e.course_id = $1`, courseID)
}

// MarkComplete records that a user completed an activity; the first time counts.
func (s *Store) MarkComplete(ctx context.Context, activityID, userID int64, at time.Time) error {
	_, err := s.c().exec(ctx, `INSERT INTO completions (activity_id, user_id, completed_at) VALUES ($1, $2, $3)
		ON CONFLICT (activity_id, user_id) DO NOTHING`, activityID, userID, micros(at))
	return err
}

// Completions maps each completed activity of a course to when the user completed it.
func (s *Store) Completions(ctx context.Context, courseID, userID int64) (map[int64]time.Time, error) {
	rows, err := s.c().query(ctx, `SELECT c.activity_id, c.completed_at FROM completions c
		JOIN activities a ON a.id = c.activity_id WHERE a.course_id = $1 AND c.user_id = $2`, courseID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]time.Time{}
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, mapErr(err)
		}
		out[id] = fromMicros(at)
	}
	return out, mapErr(rows.Err())
}

// The store implements the course service's storage.
var _ course.Store = (*Store)(nil)
