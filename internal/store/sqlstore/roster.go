package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
)

// Roster pages (publish.RosterTx): each step is one statement for a whole page (chunked, to stay far below
// both engines' limits on bound parameters), all in one transaction.

// rosterChunk is how many rows one multi-row statement carries.
const rosterChunk = 500

// RosterTx runs fn in one transaction (publish.RosterStore).
func (s *Store) RosterTx(ctx context.Context, fn func(tx publish.RosterTx) error) error {
	return s.Tx(ctx, func(tx *Store) error { return fn(tx) })
}

func chunks[T any](xs []T, fn func(part []T) error) error {
	for len(xs) > 0 {
		n := min(len(xs), rosterChunk)
		if err := fn(xs[:n]); err != nil {
			return err
		}
		xs = xs[n:]
	}
	return nil
}

// valuesList gives "($1, $2, …), ($k, …)" for rows of width values.
func valuesList(rows, width int) string {
	var b strings.Builder
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + placeholders(i*width+1, width) + ")")
	}
	return b.String()
}

// prefixScan scans leading columns into pre, the rest into what the wrapped scanner's caller asks.
type prefixScan struct {
	sc  scanner
	pre []any
}

func (p prefixScan) Scan(dest ...any) error { return p.sc.Scan(append(p.pre, dest...)...) }

func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// LinkedAccounts maps the linked subjects of issuer to their accounts.
func (s *Store) LinkedAccounts(ctx context.Context, issuer string, subjects []string) (map[string]publish.LinkedAccount, error) {
	out := make(map[string]publish.LinkedAccount, len(subjects))
	err := chunks(subjects, func(part []string) error {
		args := make([]any, 0, len(part)+1)
		args = append(args, issuer)
		for _, sub := range part {
			args = append(args, sub)
		}
		rows, err := s.c().query(ctx, `SELECT lu.id, lu.subject, `+prefixed("u.", userColumns)+` FROM lti_users lu
			JOIN users u ON u.id = lu.user_id WHERE lu.issuer = $1 AND lu.subject IN (`+placeholders(2, len(part))+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var la publish.LinkedAccount
			var sub string
			u, err := scanUser(prefixScan{rows, []any{&la.LTIUserID, &sub}})
			if err != nil {
				return err
			}
			la.User = u
			out[sub] = la
		}
		return mapErr(rows.Err())
	})
	return out, err
}

// CreateLinkedAccounts creates accounts and their platform links, a chunk per statement. Accounts whose username
// was taken are not made; an account whose platform user a launch linked first is deleted again.
func (s *Store) CreateLinkedAccounts(ctx context.Context, issuer string, registrationID int64, accounts []publish.NewLinkedAccount, at time.Time) (map[string]publish.LinkedAccount, error) {
	out := make(map[string]publish.LinkedAccount, len(accounts))
	err := chunks(accounts, func(part []publish.NewLinkedAccount) error {
		const width = 13
		args := make([]any, 0, len(part)*width)
		for _, a := range part {
			u := a.User
			args = append(args, u.Username, u.Email, u.FullName, u.PasswordHash, string(u.Auth), u.IsAdmin, u.IsCourseCreator,
				u.Language, u.Timezone, u.Institution, u.Country, micros(u.CreatedAt), micros(u.UpdatedAt))
		}
		rows, err := s.c().query(ctx, `INSERT INTO users (username, email, full_name, password_hash, auth, is_admin,
			is_course_creator, language, timezone, institution, country, created_at, updated_at) VALUES `+valuesList(len(part), width)+`
			ON CONFLICT DO NOTHING RETURNING id, username`, args...)
		if err != nil {
			return err
		}
		ids := make(map[string]int64, len(part))
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return mapErr(err)
			}
			ids[name] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(err)
		}
		made := make([]publish.NewLinkedAccount, 0, len(ids))
		for _, a := range part {
			if id, ok := ids[a.User.Username]; ok {
				a.User.ID = id
				made = append(made, a)
			}
		}
		if len(made) == 0 {
			return nil
		}
		const lw = 6
		largs := make([]any, 0, len(made)*lw)
		for _, a := range made {
			largs = append(largs, issuer, a.Subject, nullID(registrationID), a.User.ID, micros(at), micros(at))
		}
		rows, err = s.c().query(ctx, `INSERT INTO lti_users (issuer, subject, registration_id, user_id, created_at, last_launch_at)
			VALUES `+valuesList(len(made), lw)+` ON CONFLICT (issuer, subject) DO NOTHING RETURNING id, subject`, largs...)
		if err != nil {
			return err
		}
		linked := make(map[string]int64, len(made))
		for rows.Next() {
			var id int64
			var sub string
			if err := rows.Scan(&id, &sub); err != nil {
				rows.Close()
				return mapErr(err)
			}
			linked[sub] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(err)
		}
		var orphans []any
		for _, a := range made {
			if id, ok := linked[a.Subject]; ok {
				out[a.Subject] = publish.LinkedAccount{LTIUserID: id, User: a.User}
			} else {
				orphans = append(orphans, a.User.ID)
			}
		}
		if len(orphans) > 0 {
			if _, err := s.c().exec(ctx, `DELETE FROM users WHERE id IN (`+placeholders(1, len(orphans))+`)`, orphans...); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// EnrolmentsOfUsers maps users to their enrolments in a course.
func (s *Store) EnrolmentsOfUsers(ctx context.Context, courseID int64, userIDs []int64) (map[int64][]course.Enrolment, error) {
	out := make(map[int64][]course.Enrolment, len(userIDs))
	err := chunks(userIDs, func(part []int64) error {
		args := make([]any, 0, len(part)+1)
		args = append(args, courseID)
		for _, id := range part {
			args = append(args, id)
		}
		es, err := s.enrolments(ctx, `WHERE e.course_id = $1 AND e.user_id IN (`+placeholders(2, len(part))+`)`, args...)
		for _, e := range es {
			out[e.UserID] = append(out[e.UserID], e)
		}
		return err
	})
	return out, err
}

// CreateEnrolments inserts enrolments, skipping those that exist, and counts the inserted.
func (s *Store) CreateEnrolments(ctx context.Context, es []course.Enrolment) (int, error) {
	n := 0
	err := chunks(es, func(part []course.Enrolment) error {
		const width = 10
		args := make([]any, 0, len(part)*width)
		for _, e := range part {
			args = append(args, e.CourseID, e.UserID, string(e.Role), string(e.Status), nullMicros(e.Start), nullMicros(e.End),
				string(e.Method), nullID(e.PublishedResourceID), micros(e.CreatedAt), micros(e.UpdatedAt))
		}
		res, err := s.c().exec(ctx, `INSERT INTO enrolments (course_id, user_id, role, status, starts_at, ends_at, method,
			published_resource_id, created_at, updated_at) VALUES `+valuesList(len(part), width)+` ON CONFLICT DO NOTHING`, args...)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		n += int(k)
		return err
	})
	return n, err
}

var _ publish.RosterTx = (*Store)(nil)
var _ account.Store = (*Store)(nil)
