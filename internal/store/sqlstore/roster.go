package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store"
)

// Roster pages (publish.RosterTx): each step is one statement for a whole page, all in one transaction. The
// page's rows travel as one JSON array parameter that the statement unpacks (json_each on SQLite,
// json_array_elements on PostgreSQL): one parameter instead of thousands, which SQLite's binding of numbered
// parameters would make quadratic, and one statement text whatever the page size (prepared once).

// jsonRows gives the FROM item that turns the JSON array in parameter $n into rows, and a typed field of a row.
func (s *Store) jsonRows(n int) (from string, field func(name, typ string) string) {
	if s.engine == Postgres {
		return fmt.Sprintf("json_array_elements(CAST($%d AS json)) AS j", n), func(name, typ string) string {
			return fmt.Sprintf("CAST(j ->> '%s' AS %s)", name, typ)
		}
	}
	return fmt.Sprintf("json_each($%d) AS j", n), func(name, typ string) string {
		return fmt.Sprintf("CAST(j.value ->> '$.%s' AS %s)", name, typ)
	}
}

// jsonList gives a subquery of the scalars in the JSON array in parameter $n, as column v.
func (s *Store) jsonList(n int, typ string) string {
	if s.engine == Postgres {
		return fmt.Sprintf("SELECT CAST(json_array_elements_text(CAST($%d AS json)) AS %s) AS v", n, typ)
	}
	return fmt.Sprintf("SELECT CAST(value AS %s) AS v FROM json_each($%d)", typ, n)
}

func jsonParam(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// RosterTx runs fn in one transaction (publish.RosterStore).
func (s *Store) RosterTx(ctx context.Context, fn func(tx publish.RosterTx) error) error {
	return s.Tx(ctx, func(tx *Store) error { return fn(tx) })
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
	if len(subjects) == 0 {
		return out, nil
	}
	list, err := jsonParam(subjects)
	if err != nil {
		return nil, err
	}
	rows, err := s.c().query(ctx, `SELECT lu.id, lu.subject, `+prefixed("u.", userColumns)+` FROM lti_users lu
		JOIN users u ON u.id = lu.user_id WHERE lu.issuer = $1 AND lu.subject IN (`+s.jsonList(2, "TEXT")+`)`, issuer, list)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var la publish.LinkedAccount
		var sub string
		u, err := scanUser(prefixScan{rows, []any{&la.LTIUserID, &sub}})
		if err != nil {
			return nil, err
		}
		la.User = u
		out[sub] = la
	}
	return out, mapErr(rows.Err())
}

type newUserRow struct {
	Username    string `json:"username"`
	Email       string `json:"email"`
	FullName    string `json:"full_name"`
	Auth        string `json:"auth"`
	Language    string `json:"language"`
	Timezone    string `json:"timezone"`
	Institution string `json:"institution"`
	Country     string `json:"country"`
	CreatedAt   int64  `json:"created_at"`
}

type newLinkRow struct {
	Subject string `json:"subject"`
	UserID  int64  `json:"user_id"`
}

// CreateLinkedAccounts creates accounts (without passwords: LTI accounts) and their platform links, one
// statement each. Accounts whose username was taken are not made; an account whose platform user a launch
// linked first is deleted again.
func (s *Store) CreateLinkedAccounts(ctx context.Context, issuer string, registrationID int64, accounts []publish.NewLinkedAccount, at time.Time) (map[string]publish.LinkedAccount, error) {
	out := make(map[string]publish.LinkedAccount, len(accounts))
	if len(accounts) == 0 {
		return out, nil
	}
	urows := make([]newUserRow, len(accounts))
	for i, a := range accounts {
		u := a.User
		urows[i] = newUserRow{Username: u.Username, Email: u.Email, FullName: u.FullName, Auth: string(u.Auth), Language: u.Language,
			Timezone: u.Timezone, Institution: u.Institution, Country: u.Country, CreatedAt: micros(u.CreatedAt)}
	}
	param, err := jsonParam(urows)
	if err != nil {
		return nil, err
	}
	from, f := s.jsonRows(1)
	rows, err := s.c().query(ctx, `INSERT INTO users (username, email, full_name, password_hash, auth, is_admin,
		is_course_creator, language, timezone, institution, country, created_at, updated_at)
		SELECT `+f("username", "TEXT")+`, `+f("email", "TEXT")+`, `+f("full_name", "TEXT")+`, '', `+f("auth", "TEXT")+`, FALSE, FALSE, `+
		f("language", "TEXT")+`, `+f("timezone", "TEXT")+`, `+f("institution", "TEXT")+`, `+f("country", "TEXT")+`, `+
		f("created_at", "BIGINT")+`, `+f("created_at", "BIGINT")+` FROM `+from+` WHERE TRUE
		ON CONFLICT DO NOTHING RETURNING id, username`, param)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]int64, len(accounts))
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return nil, mapErr(err)
		}
		ids[name] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	made := make([]publish.NewLinkedAccount, 0, len(ids))
	lrows := make([]newLinkRow, 0, len(ids))
	for _, a := range accounts {
		if id, ok := ids[a.User.Username]; ok {
			a.User.ID = id
			made = append(made, a)
			lrows = append(lrows, newLinkRow{Subject: a.Subject, UserID: id})
		}
	}
	if len(made) == 0 {
		return out, nil
	}
	if param, err = jsonParam(lrows); err != nil {
		return nil, err
	}
	from, f = s.jsonRows(4)
	rows, err = s.c().query(ctx, `INSERT INTO lti_users (issuer, subject, registration_id, user_id, created_at, last_launch_at)
		SELECT $1, `+f("subject", "TEXT")+`, $2, `+f("user_id", "BIGINT")+`, $3, $3 FROM `+from+` WHERE TRUE
		ON CONFLICT (issuer, subject) DO NOTHING RETURNING id, subject`, issuer, nullID(registrationID), micros(at), param)
	if err != nil {
		return nil, err
	}
	linked := make(map[string]int64, len(made))
	for rows.Next() {
		var id int64
		var sub string
		if err := rows.Scan(&id, &sub); err != nil {
			rows.Close()
			return nil, mapErr(err)
		}
		linked[sub] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
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
			return nil, err
		}
	}
	return out, nil
}

// EnrolmentsOfUsers maps users to their enrolments in a course.
func (s *Store) EnrolmentsOfUsers(ctx context.Context, courseID int64, userIDs []int64) (map[int64][]course.Enrolment, error) {
	out := make(map[int64][]course.Enrolment, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	list, err := jsonParam(userIDs)
	if err != nil {
		return nil, err
	}
	es, err := s.enrolments(ctx, `WHERE e.course_id = $1 AND e.user_id IN (`+s.jsonList(2, "BIGINT")+`)`, courseID, list)
	for _, e := range es {
		out[e.UserID] = append(out[e.UserID], e)
	}
	return out, err
}

type newEnrolmentRow struct {
	UserID int64  `json:"user_id"`
	Role   string `json:"role"`
}

// CreateEnrolments inserts active LTI enrolments (one course, one resource, one time: a roster page's), skipping
// those that exist, and counts the inserted. Enrolments of another shape go one by one.
func (s *Store) CreateEnrolments(ctx context.Context, es []course.Enrolment) (int, error) {
	if len(es) == 0 {
		return 0, nil
	}
	first := es[0]
	rows := make([]newEnrolmentRow, 0, len(es))
	n := 0
	for _, e := range es {
		if e.CourseID != first.CourseID || e.PublishedResourceID != first.PublishedResourceID || e.Method != first.Method ||
			e.Status != first.Status || !e.CreatedAt.Equal(first.CreatedAt) || !e.Start.IsZero() || !e.End.IsZero() {
			if err := s.CreateEnrolment(ctx, &e); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
				return n, err
			} else if err == nil {
				n++
			}
			continue
		}
		rows = append(rows, newEnrolmentRow{UserID: e.UserID, Role: string(e.Role)})
	}
	if len(rows) == 0 {
		return n, nil
	}
	param, err := jsonParam(rows)
	if err != nil {
		return n, err
	}
	from, f := s.jsonRows(6)
	res, err := s.c().exec(ctx, `INSERT INTO enrolments (course_id, user_id, role, status, method, published_resource_id,
		created_at, updated_at) SELECT $1, `+f("user_id", "BIGINT")+`, `+f("role", "TEXT")+`, $2, $3, $4, $5, $5 FROM `+from+`
		WHERE TRUE ON CONFLICT DO NOTHING`, first.CourseID, string(first.Status), string(first.Method), nullID(first.PublishedResourceID),
		micros(first.CreatedAt), param)
	if err != nil {
		return n, err
	}
	k, err := res.RowsAffected()
	return n + int(k), err
}

var _ publish.RosterTx = (*Store)(nil)
var _ account.Store = (*Store)(nil)
