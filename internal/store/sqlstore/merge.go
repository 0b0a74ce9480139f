package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
)

// Account merges (internal/account/merge.go has the rules; migration 00024 the record).

// UserLaunchCount counts the accepted launches of an account's platform accounts in the launch log.
func (s *Store) UserLaunchCount(ctx context.Context, id int64) (int, error) {
	var n int
	err := s.c().row(ctx, `SELECT COUNT(*) FROM launch_log l JOIN lti_users u ON u.issuer = l.issuer AND u.subject = l.subject
		WHERE u.user_id = $1 AND l.outcome = 'accepted' AND l.stage <> 'login'`, id).Scan(&n)
	return n, mapErr(err)
}

// errDryRun rolls a dry-run merge back.
var errDryRun = errors.New("dry run")

// MergeAccounts moves what drop holds to keep and deletes drop, in one transaction (see account.MergeStore).
func (s *Store) MergeAccounts(ctx context.Context, keep, drop account.User, by string, at time.Time, dryRun bool) (account.MergeReport, error) {
	var rep account.MergeReport
	err := s.Tx(ctx, func(tx *Store) error {
		rep = account.MergeReport{Resolved: []string{}}
		m := &merger{tx: tx, keep: keep, drop: drop, at: at, rep: &rep}
		for _, step := range []func(context.Context) error{m.platformAccounts, m.enrolments, m.grades, m.submissions,
			m.attempts, m.completions, m.rest} {
			if err := step(ctx); err != nil {
				return err
			}
		}
		if _, err := tx.c().exec(ctx, `DELETE FROM users WHERE id = $1`, drop.ID); err != nil {
			return fmt.Errorf("delete the merged account: %w", err)
		}
		if _, err := tx.c().exec(ctx, `INSERT INTO account_merges (kept_user_id, kept_username, dropped_user_id, dropped_username,
			merged_by, summary, merged_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			keep.ID, keep.Username, drop.ID, drop.Username, by, rep.Summary(), micros(at)); err != nil {
			return fmt.Errorf("record the merge: %w", err)
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return rep, err
}

type merger struct {
	tx         *Store
	keep, drop account.User
	at         time.Time
	rep        *account.MergeReport
}

func (m *merger) exec(ctx context.Context, q string, args ...any) (int, error) {
	res, err := m.tx.c().exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (m *merger) resolved(format string, args ...any) {
	m.rep.Resolved = append(m.rep.Resolved, fmt.Sprintf(format, args...))
}

func (m *merger) platformAccounts(ctx context.Context) error {
	n, err := m.exec(ctx, `UPDATE lti_users SET user_id = $1 WHERE user_id = $2`, m.keep.ID, m.drop.ID)
	m.rep.Moved.PlatformAccounts = n
	return err
}

type mergeEnrolment struct {
	id, course, resource, updated int64
	courseName, role, status      string
	method                        string
	start, end                    sql.NullInt64
}

func (e mergeEnrolment) active(now int64) bool {
	return e.status == "active" && (!e.start.Valid || e.start.Int64 <= now) && (!e.end.Valid || e.end.Int64 > now)
}

func (m *merger) enrolmentsOf(ctx context.Context, id int64) (map[string]mergeEnrolment, []mergeEnrolment, error) {
	rows, err := m.tx.c().query(ctx, `SELECT e.id, e.course_id, COALESCE(e.published_resource_id, 0), e.updated_at, c.full_name, e.role,
		e.status, e.method, e.starts_at, e.ends_at FROM enrolments e JOIN courses c ON c.id = e.course_id WHERE e.user_id = $1 ORDER BY e.id`, id)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	byKey := map[string]mergeEnrolment{}
	var list []mergeEnrolment
	for rows.Next() {
		var e mergeEnrolment
		if err := rows.Scan(&e.id, &e.course, &e.resource, &e.updated, &e.courseName, &e.role, &e.status, &e.method, &e.start, &e.end); err != nil {
			return nil, nil, mapErr(err)
		}
		byKey[fmt.Sprintf("%d/%s/%d", e.course, e.method, e.resource)] = e
		list = append(list, e)
	}
	return byKey, list, mapErr(rows.Err())
}

// enrolments: an enrolment in the same course by the same method (and published resource) is one; the active
// one wins, then the most recently changed.
func (m *merger) enrolments(ctx context.Context) error {
	kept, _, err := m.enrolmentsOf(ctx, m.keep.ID)
	if err != nil {
		return err
	}
	_, dropped, err := m.enrolmentsOf(ctx, m.drop.ID)
	if err != nil {
		return err
	}
	now := micros(m.at)
	for _, d := range dropped {
		k, clash := kept[fmt.Sprintf("%d/%s/%d", d.course, d.method, d.resource)]
		if clash {
			da, ka := d.active(now), k.active(now)
			dropWins := da && !ka || da == ka && d.updated > k.updated
			why := "changed most recently"
			if da != ka {
				why = "active while the other is not"
			}
			loser, winner, role := d.id, m.keep.Username, k.role
			if dropWins {
				loser, winner, role = k.id, m.drop.Username, d.role
			}
			if _, err := m.exec(ctx, `DELETE FROM enrolments WHERE id = $1`, loser); err != nil {
				return err
			}
			m.resolved("course %q: both were enrolled (%s); kept %s's enrolment as %s, %s", d.courseName, d.method, winner, role, why)
			if !dropWins {
				continue
			}
		}
		if _, err := m.exec(ctx, `UPDATE enrolments SET user_id = $1 WHERE id = $2`, m.keep.ID, d.id); err != nil {
			return err
		}
		m.rep.Moved.Enrolments++
	}
	return nil
}

// grades: the better grade (the larger share of its maximum) wins, then the most recent; the loser's history
// goes with it.
func (m *merger) grades(ctx context.Context) error {
	rows, err := m.tx.c().query(ctx, `SELECT d.id, k.id, a.name, d.grade, d.max_grade, d.modified_at, k.grade, k.max_grade, k.modified_at
		FROM grades d JOIN grades k ON k.activity_id = d.activity_id AND k.user_id = $1 JOIN activities a ON a.id = d.activity_id
		WHERE d.user_id = $2 ORDER BY d.id`, m.keep.ID, m.drop.ID)
	if err != nil {
		return err
	}
	type clash struct {
		dropID, keepID     int64
		name               string
		dg, dmax, kg, kmax float64
		dmod, kmod         int64
	}
	var clashes []clash
	for rows.Next() {
		var c clash
		if err := rows.Scan(&c.dropID, &c.keepID, &c.name, &c.dg, &c.dmax, &c.dmod, &c.kg, &c.kmax, &c.kmod); err != nil {
			rows.Close()
			return mapErr(err)
		}
		clashes = append(clashes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr(err)
	}
	share := func(g, max float64) float64 {
		if max <= 0 {
			return g
		}
		return g / max
	}
	for _, c := range clashes {
		ds, ks := share(c.dg, c.dmax), share(c.kg, c.kmax)
		dropWins := ds > ks || ds == ks && c.dmod > c.kmod
		loser, winner, g, max := c.dropID, m.keep.Username, c.kg, c.kmax
		if dropWins {
			loser, winner, g, max = c.keepID, m.drop.Username, c.dg, c.dmax
		}
		why := "the better grade"
		if ds == ks {
			why = "the same grade, graded more recently"
		}
		if _, err := m.exec(ctx, `DELETE FROM grades WHERE id = $1`, loser); err != nil {
			return err
		}
		m.resolved("activity %q: both had a grade (%s %g/%g, %s %g/%g); kept %s's %g/%g, %s", c.name, m.keep.Username, c.kg, c.kmax,
			m.drop.Username, c.dg, c.dmax, winner, g, max, why)
	}
	n, err := m.exec(ctx, `UPDATE grades SET user_id = $1 WHERE user_id = $2`, m.keep.ID, m.drop.ID)
	m.rep.Moved.Grades = n
	return err
}

// submissions: the most recently submitted wins (its files with it).
func (m *merger) submissions(ctx context.Context) error {
	rows, err := m.tx.c().query(ctx, `SELECT d.id, k.id, a.name, d.submitted_at, k.submitted_at
		FROM submissions d JOIN submissions k ON k.activity_id = d.activity_id AND k.user_id = $1 JOIN activities a ON a.id = d.activity_id
		WHERE d.user_id = $2 ORDER BY d.id`, m.keep.ID, m.drop.ID)
	if err != nil {
		return err
	}
	type clash struct {
		dropID, keepID int64
		name           string
		dat, kat       int64
	}
	var clashes []clash
	for rows.Next() {
		var c clash
		if err := rows.Scan(&c.dropID, &c.keepID, &c.name, &c.dat, &c.kat); err != nil {
			rows.Close()
			return mapErr(err)
		}
		clashes = append(clashes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr(err)
	}
	for _, c := range clashes {
		loser, winner := c.dropID, m.keep.Username
		if c.dat > c.kat {
			loser, winner = c.keepID, m.drop.Username
		}
		if _, err := m.exec(ctx, `DELETE FROM submissions WHERE id = $1`, loser); err != nil {
			return err
		}
		m.resolved("activity %q: both had a submission; kept %s's, submitted most recently", c.name, winner)
	}
	n, err := m.exec(ctx, `UPDATE submissions SET user_id = $1 WHERE user_id = $2`, m.keep.ID, m.drop.ID)
	m.rep.Moved.Submissions = n
	return err
}

// attempts: every attempt is kept; on a quiz both attempted, the merged account's attempts (and started
// attempts) are renumbered after the kept account's.
func (m *merger) attempts(ctx context.Context) error {
	rows, err := m.tx.c().query(ctx, `SELECT a.id, a.name,
		(SELECT COALESCE(MAX(number), 0) FROM quiz_attempts WHERE activity_id = a.id AND user_id = $1),
		(SELECT COALESCE(MAX(number), 0) FROM quiz_starts WHERE activity_id = a.id AND user_id = $1)
		FROM activities a WHERE a.id IN (SELECT activity_id FROM quiz_attempts WHERE user_id = $2
			UNION SELECT activity_id FROM quiz_starts WHERE user_id = $2) ORDER BY a.id`, m.keep.ID, m.drop.ID)
	if err != nil {
		return err
	}
	type quiz struct {
		id                 int64
		name               string
		maxAtt, maxStarted int
	}
	var quizzes []quiz
	for rows.Next() {
		var q quiz
		if err := rows.Scan(&q.id, &q.name, &q.maxAtt, &q.maxStarted); err != nil {
			rows.Close()
			return mapErr(err)
		}
		quizzes = append(quizzes, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr(err)
	}
	for _, q := range quizzes {
		offset := max(q.maxAtt, q.maxStarted)
		n, err := m.exec(ctx, `UPDATE quiz_attempts SET user_id = $1, number = number + $3 WHERE user_id = $2 AND activity_id = $4`,
			m.keep.ID, m.drop.ID, offset, q.id)
		if err != nil {
			return err
		}
		if _, err := m.exec(ctx, `UPDATE quiz_starts SET user_id = $1, number = number + $3 WHERE user_id = $2 AND activity_id = $4`,
			m.keep.ID, m.drop.ID, offset, q.id); err != nil {
			return err
		}
		m.rep.Moved.QuizAttempts += n
		if offset > 0 && n > 0 {
			m.resolved("quiz %q: both had attempts; kept all, %s's %d renumbered after %s's %d", q.name, m.drop.Username, n,
				m.keep.Username, offset)
		}
	}
	return nil
}

// completions: the earlier completion of an activity is kept.
func (m *merger) completions(ctx context.Context) error {
	if _, err := m.exec(ctx, `UPDATE completions SET completed_at = (SELECT d.completed_at FROM completions d
		WHERE d.activity_id = completions.activity_id AND d.user_id = $2)
		WHERE user_id = $1 AND completed_at > (SELECT d.completed_at FROM completions d
		WHERE d.activity_id = completions.activity_id AND d.user_id = $2)`, m.keep.ID, m.drop.ID); err != nil {
		return err
	}
	if _, err := m.exec(ctx, `DELETE FROM completions WHERE user_id = $2 AND activity_id IN
		(SELECT activity_id FROM completions WHERE user_id = $1)`, m.keep.ID, m.drop.ID); err != nil {
		return err
	}
	_, err := m.exec(ctx, `UPDATE completions SET user_id = $1 WHERE user_id = $2`, m.keep.ID, m.drop.ID)
	return err
}

// rest: what only names the account (grader, course creator) follows it; grade sync state of the merged
// account is kept where the kept account has none for the same link (grade sync sends what is current).
func (m *merger) rest(ctx context.Context) error {
	for _, q := range []string{
		`UPDATE grades SET graded_by = $1 WHERE graded_by = $2`,
		`UPDATE grade_history SET graded_by = $1 WHERE graded_by = $2`,
		`UPDATE courses SET created_by = $1 WHERE created_by = $2`,
		`DELETE FROM sync_scores WHERE user_id = $2 AND resource_link_id IN (SELECT resource_link_id FROM sync_scores WHERE user_id = $1)`,
		`UPDATE sync_scores SET user_id = $1 WHERE user_id = $2`,
		`DELETE FROM sync_failures WHERE user_id = $2 AND resource_link_id IN (SELECT resource_link_id FROM sync_failures WHERE user_id = $1)`,
		`UPDATE sync_failures SET user_id = $1 WHERE user_id = $2`,
	} {
		if _, err := m.exec(ctx, q, m.keep.ID, m.drop.ID); err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(q)[1], err)
		}
	}
	return nil
}
