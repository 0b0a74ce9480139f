package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/course"
)

// Quiz attempts, assignment submissions and the gradebook.

const attemptColumns = `id, activity_id, user_id, number, answers, score, max_grade, submitted_at, marks, pending`

func scanAttempt(sc scanner) (course.Attempt, error) {
	var a course.Attempt
	var answers, marks string
	var at int64
	if err := sc.Scan(&a.ID, &a.ActivityID, &a.UserID, &a.Number, &answers, &a.Score, &a.MaxGrade, &at, &marks, &a.Pending); err != nil {
		return course.Attempt{}, mapErr(err)
	}
	a.SubmittedAt = fromMicros(at)
	if err := json.Unmarshal([]byte(answers), &a.Answers); err != nil {
		return course.Attempt{}, fmt.Errorf("attempt %d: decode answers: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(marks), &a.Marks); err != nil {
		return course.Attempt{}, fmt.Errorf("attempt %d: decode marks: %w", a.ID, err)
	}
	return a, nil
}

func scanAttempts(rows *sql.Rows) ([]course.Attempt, error) {
	defer rows.Close()
	var out []course.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

func marksJSON(m map[string]float64) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func attempts(ctx context.Context, c conn, activityID, userID int64) ([]course.Attempt, error) {
	rows, err := c.query(ctx, `SELECT `+attemptColumns+` FROM quiz_attempts WHERE activity_id = $1 AND user_id = $2
		ORDER BY number`, activityID, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []course.Attempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

// RecordAttempt stores the attempt decide returns, numbered after the earlier ones, and its grade change, in one
// transaction. Two attempts racing for the same number collide on the unique key (ErrAlreadyExists) rather than
// slipping past the attempts limit.
func (s *Store) RecordAttempt(ctx context.Context, activityID, userID int64,
	decide func(prev []course.Attempt) (course.Attempt, *course.GradeChange, error)) (course.Attempt, error) {
	var out course.Attempt
	err := s.inTx(ctx, func(c conn) error {
		prev, err := attempts(ctx, c, activityID, userID)
		if err != nil {
			return err
		}
		a, change, err := decide(prev)
		if err != nil {
			return err
		}
		a.ActivityID, a.UserID, a.Number = activityID, userID, len(prev)+1
		if len(prev) > 0 {
			a.Number = prev[len(prev)-1].Number + 1
		}
		answers, err := json.Marshal(a.Answers)
		if err != nil {
			return err
		}
		marks, err := marksJSON(a.Marks)
		if err != nil {
			return err
		}
		a.ID, err = c.insertID(ctx, `INSERT INTO quiz_attempts (activity_id, user_id, number, answers, score, max_grade,
			submitted_at, marks, pending) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			a.ActivityID, a.UserID, a.Number, string(answers), a.Score, a.MaxGrade, micros(a.SubmittedAt), marks, a.Pending)
		if err != nil {
			return err
		}
		if change != nil {
			if _, err := putGrade(ctx, c, *change); err != nil {
				return err
			}
		}
		out = a
		return nil
	})
	return out, err
}

// Attempts lists a user's attempts at a quiz, oldest first.
func (s *Store) Attempts(ctx context.Context, activityID, userID int64) ([]course.Attempt, error) {
	return attempts(ctx, s.c(), activityID, userID)
}

// StartAttempt records the start of an attempt once; a second call keeps the first start.
func (s *Store) StartAttempt(ctx context.Context, activityID, userID int64, number int, at time.Time) (time.Time, error) {
	var started int64
	err := s.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, `INSERT INTO quiz_starts (activity_id, user_id, number, started_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (activity_id, user_id, number) DO NOTHING`, activityID, userID, number, micros(at)); err != nil {
			return err
		}
		return mapErr(c.row(ctx, `SELECT started_at FROM quiz_starts WHERE activity_id = $1 AND user_id = $2 AND number = $3`,
			activityID, userID, number).Scan(&started))
	})
	return fromMicros(started), err
}

// ActivityAttempts lists every attempt at a quiz, by user and number.
func (s *Store) ActivityAttempts(ctx context.Context, activityID int64) ([]course.Attempt, error) {
	rows, err := s.c().query(ctx, `SELECT `+attemptColumns+` FROM quiz_attempts WHERE activity_id = $1
		ORDER BY user_id, number`, activityID)
	if err != nil {
		return nil, err
	}
	return scanAttempts(rows)
}

// AttemptsOfUsers lists some users' attempts at a quiz, by user and number: one page of the attempts page.
func (s *Store) AttemptsOfUsers(ctx context.Context, activityID int64, userIDs []int64) ([]course.Attempt, error) {
	list, err := jsonParam(userIDs)
	if err != nil {
		return nil, err
	}
	rows, err := s.c().query(ctx, `SELECT `+attemptColumns+` FROM quiz_attempts
		WHERE activity_id = $1 AND user_id IN (`+s.jsonList(2, "BIGINT")+`) ORDER BY user_id, number`, activityID, list)
	if err != nil {
		return nil, err
	}
	return scanAttempts(rows)
}

// UpdateAttempts stores the new scores, marks and pending flags decide gives a user's attempts, and the grade
// change, in one transaction. The attempts are read first with an UPDATE that touches nothing, so that on
// PostgreSQL their rows stay locked against a concurrent marking until the end.
func (s *Store) UpdateAttempts(ctx context.Context, activityID, userID int64,
	decide func(all []course.Attempt) ([]course.Attempt, *course.GradeChange, error)) error {
	return s.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, `UPDATE quiz_attempts SET pending = pending WHERE activity_id = $1 AND user_id = $2`,
			activityID, userID); err != nil {
			return err
		}
		all, err := attempts(ctx, c, activityID, userID)
		if err != nil {
			return err
		}
		changed, change, err := decide(all)
		if err != nil {
			return err
		}
		for _, a := range changed {
			marks, err := marksJSON(a.Marks)
			if err != nil {
				return err
			}
			if _, err := c.exec(ctx, `UPDATE quiz_attempts SET score = $1, marks = $2, pending = $3, max_grade = $4
				WHERE id = $5 AND activity_id = $6 AND user_id = $7`, a.Score, marks, a.Pending, a.MaxGrade, a.ID, activityID, userID); err != nil {
				return err
			}
		}
		if change != nil {
			if _, err := putGrade(ctx, c, *change); err != nil {
				return err
			}
		}
		return nil
	})
}

// SaveSubmission stores or replaces a user's submission.
func (s *Store) SaveSubmission(ctx context.Context, sub *course.Submission) error {
	id, err := s.c().insertID(ctx, `INSERT INTO submissions (activity_id, user_id, text, submitted_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (activity_id, user_id) DO UPDATE SET text = excluded.text, submitted_at = excluded.submitted_at
		RETURNING id`, sub.ActivityID, sub.UserID, sub.Text, micros(sub.SubmittedAt))
	if err != nil {
		return err
	}
	sub.ID = id
	return nil
}

func scanSubmission(sc scanner) (course.Submission, error) {
	var sub course.Submission
	var at int64
	if err := sc.Scan(&sub.ID, &sub.ActivityID, &sub.UserID, &sub.Text, &at); err != nil {
		return course.Submission{}, mapErr(err)
	}
	sub.SubmittedAt = fromMicros(at)
	return sub, nil
}

// SubmissionOf loads one user's submission.
func (s *Store) SubmissionOf(ctx context.Context, activityID, userID int64) (course.Submission, error) {
	return scanSubmission(s.c().row(ctx, `SELECT id, activity_id, user_id, text, submitted_at FROM submissions
		WHERE activity_id = $1 AND user_id = $2`, activityID, userID))
}

// SubmissionsOfUsers lists the submissions of some users to an assignment.
func (s *Store) SubmissionsOfUsers(ctx context.Context, activityID int64, userIDs []int64) ([]course.Submission, error) {
	list, err := jsonParam(userIDs)
	if err != nil {
		return nil, err
	}
	rows, err := s.c().query(ctx, `SELECT id, activity_id, user_id, text, submitted_at FROM submissions
		WHERE activity_id = $1 AND user_id IN (`+s.jsonList(2, "BIGINT")+`) ORDER BY id`, activityID, list)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []course.Submission
	for rows.Next() {
		sub, err := scanSubmission(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, mapErr(rows.Err())
}

const gradeColumns = `g.id, g.activity_id, g.user_id, g.grade, g.max_grade, g.feedback, g.graded_by, g.modified_at, g.revision`

// courseGradeColumns adds the pending flag (migration 00014); the grade sync queries in sync.go select it too.
const courseGradeColumns = gradeColumns + `, g.pending`

// scanCourseGrade reads courseGradeColumns.
func scanCourseGrade(sc scanner) (course.Grade, error) {
	var g course.Grade
	var by sql.NullInt64
	var at int64
	if err := sc.Scan(&g.ID, &g.ActivityID, &g.UserID, &g.Grade, &g.MaxGrade, &g.Feedback, &by, &at, &g.Revision, &g.Pending); err != nil {
		return course.Grade{}, mapErr(err)
	}
	g.GradedBy, g.ModifiedAt = by.Int64, fromMicros(at)
	return g, nil
}

// putGrade inserts or changes a grade, bumping its revision, and appends the change to the grade's history. On
// PostgreSQL the upsert's row lock makes concurrent changes of one grade take turns, so each gets its own
// revision; SQLite has one writer at a time anyway.
func putGrade(ctx context.Context, c conn, ch course.GradeChange) (course.Grade, error) {
	g, err := scanCourseGrade(c.row(ctx, `INSERT INTO grades AS g (activity_id, user_id, grade, max_grade, feedback, graded_by,
		modified_at, revision, pending) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)
		ON CONFLICT (activity_id, user_id) DO UPDATE SET grade = excluded.grade, max_grade = excluded.max_grade,
		feedback = excluded.feedback, graded_by = excluded.graded_by, modified_at = excluded.modified_at,
		revision = g.revision + 1, pending = excluded.pending
		RETURNING `+strings.ReplaceAll(courseGradeColumns, "g.", ""),
		ch.ActivityID, ch.UserID, ch.Grade, ch.MaxGrade, ch.Feedback, nullID(ch.GradedBy), micros(ch.At), ch.Pending))
	if err != nil {
		return course.Grade{}, err
	}
	_, err = c.exec(ctx, `INSERT INTO grade_history (grade_id, revision, grade, max_grade, feedback, graded_by, changed_at, pending)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, g.ID, g.Revision, g.Grade, g.MaxGrade, g.Feedback, nullID(g.GradedBy), micros(g.ModifiedAt), g.Pending)
	return g, err
}

// PutGrade sets a grade.
func (s *Store) PutGrade(ctx context.Context, ch course.GradeChange) (course.Grade, error) {
	var g course.Grade
	err := s.inTx(ctx, func(c conn) error {
		var err error
		g, err = putGrade(ctx, c, ch)
		return err
	})
	return g, err
}

// GradeOf loads one user's grade in one activity.
func (s *Store) GradeOf(ctx context.Context, activityID, userID int64) (course.Grade, error) {
	return scanCourseGrade(s.c().row(ctx, `SELECT `+courseGradeColumns+` FROM grades g WHERE g.activity_id = $1 AND g.user_id = $2`,
		activityID, userID))
}

func (s *Store) courseGrades(ctx context.Context, query string, args ...any) ([]course.Grade, error) {
	rows, err := s.c().query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []course.Grade
	for rows.Next() {
		g, err := scanCourseGrade(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, mapErr(rows.Err())
}

// CourseGrades lists every grade in a course.
func (s *Store) CourseGrades(ctx context.Context, courseID int64) ([]course.Grade, error) {
	return s.courseGrades(ctx, `SELECT `+courseGradeColumns+` FROM grades g JOIN activities a ON a.id = g.activity_id
		WHERE a.course_id = $1 ORDER BY g.id`, courseID)
}

// GradeHistory lists every recorded value of a grade, oldest first.
func (s *Store) GradeHistory(ctx context.Context, gradeID int64) ([]course.Grade, error) {
	return s.courseGrades(ctx, `SELECT g.grade_id, gr.activity_id, gr.user_id, g.grade, g.max_grade, g.feedback, g.graded_by,
		g.changed_at, g.revision, g.pending FROM grade_history g JOIN grades gr ON gr.id = g.grade_id
		WHERE g.grade_id = $1 ORDER BY g.revision`, gradeID)
}

// GradesToSync lists grades whose revision is above the one last marked sent to target.
func (s *Store) GradesToSync(ctx context.Context, target string, courseID int64, limit int) ([]course.Grade, error) {
	if limit <= 0 {
		limit = 1000
	}
	return s.courseGrades(ctx, `SELECT `+courseGradeColumns+` FROM grades g
		LEFT JOIN grade_sync_marks m ON m.grade_id = g.id AND m.target = $1
		WHERE (m.revision IS NULL OR g.revision > m.revision)
		AND (CAST($2 AS BIGINT) = 0 OR g.activity_id IN (SELECT id FROM activities WHERE course_id = $2))
		ORDER BY g.id LIMIT $3`, target, courseID, limit)
}

// MarkGradeSynced records that target holds revision of a grade; a stale mark never lowers a newer one.
func (s *Store) MarkGradeSynced(ctx context.Context, target string, gradeID, revision int64) error {
	_, err := s.c().exec(ctx, `INSERT INTO grade_sync_marks AS m (target, grade_id, revision) VALUES ($1, $2, $3)
		ON CONFLICT (target, grade_id) DO UPDATE
		SET revision = CASE WHEN excluded.revision > m.revision THEN excluded.revision ELSE m.revision END`,
		target, gradeID, revision)
	return err
}

// SaveSubmissionFiles stores or replaces a user's submission and changes its files, in one transaction.
func (s *Store) SaveSubmissionFiles(ctx context.Context, sub *course.Submission, add []course.SubmissionFile, remove []int64,
	check func(files []course.SubmissionFile) error) error {
	return s.inTx(ctx, func(c conn) error {
		id, err := c.insertID(ctx, `INSERT INTO submissions (activity_id, user_id, text, submitted_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (activity_id, user_id) DO UPDATE SET text = excluded.text, submitted_at = excluded.submitted_at
			RETURNING id`, sub.ActivityID, sub.UserID, sub.Text, micros(sub.SubmittedAt))
		if err != nil {
			return err
		}
		sub.ID = id
		for _, fid := range remove {
			// Scoped to this submission: an id of someone else's file removes nothing.
			if _, err := c.exec(ctx, `DELETE FROM submission_files WHERE id = $1 AND submission_id = $2`, fid, id); err != nil {
				return err
			}
		}
		for _, f := range add {
			if _, err := c.exec(ctx, `INSERT INTO submission_files (submission_id, name, size, sha256, data, uploaded_at)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (submission_id, name) DO UPDATE SET size = excluded.size,
				sha256 = excluded.sha256, data = excluded.data, uploaded_at = excluded.uploaded_at`,
				id, f.Name, f.Size, f.SHA256, f.Data, micros(f.UploadedAt)); err != nil {
				return mapErr(err)
			}
		}
		files, err := submissionFiles(ctx, c, []int64{id})
		if err != nil {
			return err
		}
		sub.Files = files[id]
		if check != nil {
			return check(sub.Files)
		}
		return nil
	})
}

const submissionFileColumns = `f.id, f.submission_id, f.name, f.size, f.sha256, f.uploaded_at, sub.activity_id, sub.user_id`

func scanSubmissionFile(sc scanner, data *[]byte) (course.SubmissionFile, error) {
	var f course.SubmissionFile
	var at int64
	dest := []any{&f.ID, &f.SubmissionID, &f.Name, &f.Size, &f.SHA256, &at, &f.ActivityID, &f.UserID}
	if data != nil {
		dest = append(dest, data)
	}
	if err := sc.Scan(dest...); err != nil {
		return course.SubmissionFile{}, mapErr(err)
	}
	f.UploadedAt = fromMicros(at)
	return f, nil
}

func submissionFiles(ctx context.Context, c conn, ids []int64) (map[int64][]course.SubmissionFile, error) {
	out := map[int64][]course.SubmissionFile{}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 500)]
		ids = ids[len(batch):]
		ph := make([]string, len(batch))
		args := make([]any, len(batch))
		for i, id := range batch {
			ph[i], args[i] = fmt.Sprintf("$%d", i+1), id
		}
		rows, err := c.query(ctx, `SELECT `+submissionFileColumns+` FROM submission_files f
			JOIN submissions sub ON sub.id = f.submission_id WHERE f.submission_id IN (`+strings.Join(ph, ", ")+`)
			ORDER BY f.submission_id, f.name`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			f, err := scanSubmissionFile(rows, nil)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[f.SubmissionID] = append(out[f.SubmissionID], f)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, mapErr(err)
		}
	}
	return out, nil
}

// SubmissionFiles lists the files of submissions, without their content.
func (s *Store) SubmissionFiles(ctx context.Context, submissionIDs []int64) (map[int64][]course.SubmissionFile, error) {
	return submissionFiles(ctx, s.c(), submissionIDs)
}

// SubmissionFileData loads one file with its content.
func (s *Store) SubmissionFileData(ctx context.Context, fileID int64) (course.SubmissionFile, error) {
	var data []byte
	f, err := scanSubmissionFile(s.c().row(ctx, `SELECT `+submissionFileColumns+`, f.data FROM submission_files f
		JOIN submissions sub ON sub.id = f.submission_id WHERE f.id = $1`, fileID), &data)
	f.Data = data
	return f, err
}
