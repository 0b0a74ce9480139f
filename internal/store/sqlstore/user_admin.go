package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
)

// likePattern makes a substring pattern, with LIKE's wildcards in the query taken literally.
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(q) + "%"
}

// userMatch is the search condition on $1, a likePattern: a part of the username, name or email. On PostgreSQL
// it is one ILIKE (case-insensitive in Unicode) over the three joined, the expression the trigram index
// users_search covers (migration 00012); SQLite has no such index and reads the table, where three LIKEs (which
// ignore ASCII case) cost less than joining the strings.
func (s *Store) userMatch() string {
	if s.engine == Postgres {
		return `(username || ' ' || full_name || ' ' || email) ILIKE $1 ESCAPE '\'`
	}
	return `(username LIKE $1 ESCAPE '\' OR full_name LIKE $1 ESCAPE '\' OR email LIKE $1 ESCAPE '\')`
}

// ListUsersPage lists accounts by username after f.After, at most f.Limit, matching f.Query. Paging by username
// walks the username index, so a late page costs what the first does.
func (s *Store) ListUsersPage(ctx context.Context, f account.UserFilter) ([]account.User, error) {
	// Usernames are unique: the order is stable without a tie-break.
	q := `SELECT ` + userColumns + ` FROM users WHERE username > $1 ORDER BY username LIMIT $2 OFFSET $3`
	args := []any{f.After, f.Limit, max(f.Offset, 0)}
	if f.Query != "" {
		q = `SELECT ` + userColumns + ` FROM users WHERE username > $2 AND ` + s.userMatch() + ` ORDER BY username LIMIT $3 OFFSET $4`
		args = []any{likePattern(f.Query), f.After, f.Limit, max(f.Offset, 0)}
	}
	rows, err := s.c().query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, mapErr(rows.Err())
}

// CountUsersMatching counts the accounts that match query (all of them for "").
func (s *Store) CountUsersMatching(ctx context.Context, query string) (int, error) {
	if query == "" {
		return s.CountUsers(ctx)
	}
	var n int
	err := s.c().row(ctx, `SELECT COUNT(*) FROM users WHERE `+s.userMatch(), likePattern(query)).Scan(&n)
	return n, mapErr(err)
}

// CountActiveAdmins counts the administrators who are not suspended.
func (s *Store) CountActiveAdmins(ctx context.Context) (int, error) {
	var n int
	err := s.c().row(ctx, `SELECT COUNT(*) FROM users WHERE is_admin AND suspended_at IS NULL`).Scan(&n)
	return n, mapErr(err)
}

// SetSuspended suspends an account from at, or lifts the suspension when at is zero.
func (s *Store) SetSuspended(ctx context.Context, id int64, at time.Time) error {
	var v sql.NullInt64
	if !at.IsZero() {
		v = sql.NullInt64{Int64: micros(at), Valid: true}
	}
	res, err := s.c().exec(ctx, `UPDATE users SET suspended_at = $2, updated_at = $3 WHERE id = $1`, id, v, micros(s.now()))
	if err != nil {
		return err
	}
	return affectedOne(res)
}

// SetMustChangePassword sets whether the account's next sign-in must choose a new password.
func (s *Store) SetMustChangePassword(ctx context.Context, id int64, must bool) error {
	res, err := s.c().exec(ctx, `UPDATE users SET must_change_password = $2 WHERE id = $1`, id, must)
	if err != nil {
		return err
	}
	return affectedOne(res)
}

// UserPlatformAccounts lists the platform users linked to an account, most recent launch first.
func (s *Store) UserPlatformAccounts(ctx context.Context, id int64) ([]account.PlatformAccount, error) {
	rows, err := s.c().query(ctx, `SELECT l.issuer, l.subject, COALESCE(l.registration_id, 0), COALESCE(r.name, ''), l.last_launch_at
		FROM lti_users l LEFT JOIN registrations r ON r.id = l.registration_id
		WHERE l.user_id = $1 ORDER BY l.last_launch_at DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.PlatformAccount{}
	for rows.Next() {
		var p account.PlatformAccount
		var last int64
		if err := rows.Scan(&p.Issuer, &p.Subject, &p.RegistrationID, &p.Platform, &last); err != nil {
			return nil, mapErr(err)
		}
		p.LastLaunchAt = fromMicros(last)
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

// UserEnrolments lists an account's enrolments with their courses' names.
func (s *Store) UserEnrolments(ctx context.Context, id int64) ([]account.EnrolmentSummary, error) {
	rows, err := s.c().query(ctx, `SELECT e.course_id, c.full_name, e.role, e.status, e.method
		FROM enrolments e JOIN courses c ON c.id = e.course_id WHERE e.user_id = $1 ORDER BY c.full_name, e.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []account.EnrolmentSummary{}
	for rows.Next() {
		var e account.EnrolmentSummary
		if err := rows.Scan(&e.CourseID, &e.CourseName, &e.Role, &e.Status, &e.Method); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// UserDependents counts what deleting the account takes with it.
func (s *Store) UserDependents(ctx context.Context, id int64) (account.Dependents, error) {
	var d account.Dependents
	err := s.c().row(ctx, `SELECT
		(SELECT COUNT(*) FROM lti_users WHERE user_id = $1),
		(SELECT COUNT(*) FROM enrolments WHERE user_id = $1),
		(SELECT COUNT(*) FROM grades WHERE user_id = $1),
		(SELECT COUNT(*) FROM submissions WHERE user_id = $1),
		(SELECT COUNT(*) FROM quiz_attempts WHERE user_id = $1),
		(SELECT COUNT(*) FROM courses WHERE created_by = $1)`, id).
		Scan(&d.PlatformAccounts, &d.Enrolments, &d.Grades, &d.Submissions, &d.QuizAttempts, &d.CoursesCreated)
	return d, mapErr(err)
}

// DeleteUser deletes an account; the foreign keys delete what depends on it.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	res, err := s.c().exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err != nil {
		return err
	}
	return affectedOne(res)
}
