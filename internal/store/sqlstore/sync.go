package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/lti"
)

// Grade and member sync state (see internal/jobs).

// ServiceToken reads a cached service token.
func (s *Store) ServiceToken(ctx context.Context, key string) (lti.ServiceToken, bool, error) {
	var t lti.ServiceToken
	var scopes string
	var exp int64
	err := s.c().row(ctx, `SELECT access_token, scopes, expires_at FROM service_tokens WHERE cache_key = $1`, key).
		Scan(&t.AccessToken, &scopes, &exp)
	if err == sql.ErrNoRows {
		return lti.ServiceToken{}, false, nil
	}
	if err != nil {
		return lti.ServiceToken{}, false, mapErr(err)
	}
	if t.AccessToken, err = s.open(purposeServiceToken, t.AccessToken); err != nil {
		return lti.ServiceToken{}, false, fmt.Errorf("decrypt cached service token: %w", err)
	}
	t.Scopes, t.Expiry = strings.Fields(scopes), fromMicros(exp)
	return t, true, nil
}

// PutServiceToken caches a service token for every instance.
func (s *Store) PutServiceToken(ctx context.Context, registrationID int64, key string, t lti.ServiceToken) error {
	token, err := s.seal(purposeServiceToken, t.AccessToken)
	if err != nil {
		return err
	}
	_, err = s.c().exec(ctx, `INSERT INTO service_tokens (cache_key, registration_id, access_token, scopes, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (cache_key) DO UPDATE SET access_token = excluded.access_token,
		scopes = excluded.scopes, expires_at = excluded.expires_at, created_at = excluded.created_at`,
		key, nullID(registrationID), token, strings.Join(t.Scopes, " "), micros(t.Expiry), micros(s.now()))
	return err
}

// DeleteServiceToken drops a cached token (after a 401).
func (s *Store) DeleteServiceToken(ctx context.Context, key string) error {
	_, err := s.c().exec(ctx, `DELETE FROM service_tokens WHERE cache_key = $1`, key)
	return err
}

// SyncLink reads the sync state of a resource link (zero when there is none yet).
func (s *Store) SyncLink(ctx context.Context, linkID int64) (jobs.LinkState, error) {
	var st jobs.LinkState
	var at int64
	err := s.c().row(ctx, `SELECT lineitem_url, lineitem_created, members_run_id, members_synced_at FROM sync_links
		WHERE resource_link_id = $1`, linkID).Scan(&st.LineItemURL, &st.LineItemCreated, &st.MembersRunID, &at)
	if err == sql.ErrNoRows {
		return jobs.LinkState{}, nil
	}
	if err != nil {
		return jobs.LinkState{}, mapErr(err)
	}
	if at != 0 {
		st.MembersSyncedAt = fromMicros(at)
	}
	return st, nil
}

// SetSyncLineItem records the line item grade sync found or created for a link.
func (s *Store) SetSyncLineItem(ctx context.Context, linkID int64, url string, created bool, at time.Time) error {
	_, err := s.c().exec(ctx, `INSERT INTO sync_links (resource_link_id, lineitem_url, lineitem_created, updated_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (resource_link_id) DO UPDATE SET lineitem_url = excluded.lineitem_url,
		lineitem_created = excluded.lineitem_created, updated_at = excluded.updated_at`, linkID, url, created, micros(at))
	return err
}

// FinishMemberRun records the last complete roster listing of a link.
func (s *Store) FinishMemberRun(ctx context.Context, linkID, runID int64, at time.Time) error {
	_, err := s.c().exec(ctx, `INSERT INTO sync_links (resource_link_id, members_run_id, members_synced_at, updated_at)
		VALUES ($1, $2, $3, $3) ON CONFLICT (resource_link_id) DO UPDATE SET members_run_id = excluded.members_run_id,
		members_synced_at = excluded.members_synced_at, updated_at = excluded.updated_at`, linkID, runID, micros(at))
	return err
}

// pendingGrades reads courseGradeColumns (with g.pending, so that a grade waiting for a teacher is sent as
// Pending) and pendingSentColumns.
func (s *Store) pendingGrades(ctx context.Context, query string, args ...any) ([]jobs.PendingGrade, error) {
	rows, err := s.c().query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []jobs.PendingGrade
	for rows.Next() {
		var p jobs.PendingGrade
		var by sql.NullInt64
		var at int64
		var ssURL, ssComment, ssAct, ssGrading sql.NullString
		var ssGiven, ssMax sql.NullFloat64
		var ssTS, ssSent sql.NullInt64
		if err := rows.Scan(&p.ID, &p.ActivityID, &p.UserID, &p.Grade.Grade, &p.MaxGrade, &p.Feedback, &by, &at, &p.Revision,
			&p.Pending, &p.Subject, &p.Name, &ssURL, &ssGiven, &ssMax, &ssComment, &ssAct, &ssGrading, &ssTS, &ssSent); err != nil {
			return nil, mapErr(err)
		}
		p.GradedBy, p.ModifiedAt = by.Int64, fromMicros(at)
		if ssURL.Valid {
			p.HasSent = true
			p.Sent = jobs.SentScore{UserID: p.UserID, LineItemURL: ssURL.String, SentAt: fromMicros(ssSent.Int64),
				Score: lti.Score{ScoreMaximum: ssMax.Float64, Comment: ssComment.String, ActivityProgress: ssAct.String,
					GradingProgress: ssGrading.String, Timestamp: fromMicros(ssTS.Int64)}}
			if ssGiven.Valid {
				v := ssGiven.Float64
				p.Sent.Score.ScoreGiven = &v
			}
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

// pendingSentColumns are the platform user, the person's name and the score last confirmed for them on the link.
const pendingSentColumns = `lu.subject, CASE WHEN u.full_name <> '' THEN u.full_name ELSE u.username END, ss.lineitem_url,
	ss.score_given, ss.score_maximum, ss.comment, ss.activity_progress, ss.grading_progress, ss.score_timestamp, ss.sent_at`

// PendingActivityGrades lists one activity's grades changed since target confirmed them, for users of the link.
func (s *Store) PendingActivityGrades(ctx context.Context, linkID, activityID int64, target string, userID, afterGradeID int64, limit int) ([]jobs.PendingGrade, error) {
	return s.pendingGrades(ctx, `SELECT `+courseGradeColumns+`, `+pendingSentColumns+` FROM lti_user_links ul
		JOIN lti_users lu ON lu.id = ul.lti_user_id
		JOIN grades g ON g.user_id = lu.user_id AND g.activity_id = $2
		JOIN users u ON u.id = lu.user_id
		LEFT JOIN sync_scores ss ON ss.resource_link_id = ul.resource_link_id AND ss.user_id = lu.user_id
		LEFT JOIN grade_sync_marks m ON m.target = $3 AND m.grade_id = g.id
		WHERE ul.resource_link_id = $1 AND (m.revision IS NULL OR g.revision > m.revision)
		AND (CAST($4 AS BIGINT) = 0 OR lu.user_id = $4) AND g.id > $5
		ORDER BY g.id LIMIT $6`, linkID, activityID, target, userID, afterGradeID, limit)
}

// PendingCourseGrades lists a course's grades changed since target confirmed them, for users of the link.
func (s *Store) PendingCourseGrades(ctx context.Context, linkID, courseID int64, target string, userID, afterUserID int64, limit int) ([]jobs.PendingGrade, error) {
	return s.pendingGrades(ctx, `SELECT `+courseGradeColumns+`, `+pendingSentColumns+` FROM lti_user_links ul
		JOIN lti_users lu ON lu.id = ul.lti_user_id
		JOIN grades g ON g.user_id = lu.user_id
		JOIN users u ON u.id = lu.user_id
		LEFT JOIN sync_scores ss ON ss.resource_link_id = ul.resource_link_id AND ss.user_id = lu.user_id
		JOIN activities a ON a.id = g.activity_id AND a.course_id = $2
		LEFT JOIN grade_sync_marks m ON m.target = $3 AND m.grade_id = g.id
		WHERE ul.resource_link_id = $1 AND (m.revision IS NULL OR g.revision > m.revision)
		AND (CAST($4 AS BIGINT) = 0 OR lu.user_id = $4) AND g.user_id > $5
		ORDER BY g.user_id, g.id LIMIT $6`, linkID, courseID, target, userID, afterUserID, limit)
}

// UserCourseGrades lists a user's grades in a course's visible graded activities, and counts those activities.
// The grades carry their pending flag: a course total counting one waiting for a teacher is sent as Pending.
func (s *Store) UserCourseGrades(ctx context.Context, courseID, userID int64) ([]course.Grade, int, error) {
	var n int
	if err := s.c().row(ctx, `SELECT COUNT(*) FROM activities WHERE course_id = $1 AND visible AND type IN ('quiz', 'assignment')`,
		courseID).Scan(&n); err != nil {
		return nil, 0, mapErr(err)
	}
	gs, err := s.courseGrades(ctx, `SELECT `+courseGradeColumns+` FROM grades g JOIN activities a ON a.id = g.activity_id
		WHERE a.course_id = $1 AND g.user_id = $2 AND a.visible AND a.type IN ('quiz', 'assignment') ORDER BY g.id`, courseID, userID)
	return gs, n, err
}

// PendingSubmissions lists ungraded submissions newer than the score last sent, for users of the link.
func (s *Store) PendingSubmissions(ctx context.Context, linkID, activityID, userID int64, limit int) ([]jobs.PendingSubmission, error) {
	rows, err := s.c().query(ctx, `SELECT sub.user_id, lu.subject, sub.submitted_at FROM lti_user_links ul
		JOIN lti_users lu ON lu.id = ul.lti_user_id
		JOIN submissions sub ON sub.user_id = lu.user_id AND sub.activity_id = $2
		LEFT JOIN grades g ON g.activity_id = sub.activity_id AND g.user_id = sub.user_id
		LEFT JOIN sync_scores ss ON ss.resource_link_id = ul.resource_link_id AND ss.user_id = sub.user_id
		WHERE ul.resource_link_id = $1 AND g.id IS NULL AND (ss.user_id IS NULL OR ss.score_timestamp < sub.submitted_at)
		AND (CAST($3 AS BIGINT) = 0 OR lu.user_id = $3)
		ORDER BY sub.id LIMIT $4`, linkID, activityID, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []jobs.PendingSubmission
	for rows.Next() {
		var p jobs.PendingSubmission
		var at int64
		if err := rows.Scan(&p.UserID, &p.Subject, &at); err != nil {
			return nil, mapErr(err)
		}
		p.SubmittedAt = fromMicros(at)
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

// SentScore reads the score last confirmed for a user of a link.
func (s *Store) SentScore(ctx context.Context, linkID, userID int64) (jobs.SentScore, bool, error) {
	ss := jobs.SentScore{LinkID: linkID, UserID: userID}
	var given sql.NullFloat64
	var ts, sent int64
	err := s.c().row(ctx, `SELECT lineitem_url, score_given, score_maximum, comment, activity_progress, grading_progress,
		score_timestamp, sent_at FROM sync_scores WHERE resource_link_id = $1 AND user_id = $2`, linkID, userID).
		Scan(&ss.LineItemURL, &given, &ss.Score.ScoreMaximum, &ss.Score.Comment, &ss.Score.ActivityProgress,
			&ss.Score.GradingProgress, &ts, &sent)
	if err == sql.ErrNoRows {
		return jobs.SentScore{}, false, nil
	}
	if err != nil {
		return jobs.SentScore{}, false, mapErr(err)
	}
	if given.Valid {
		v := given.Float64
		ss.Score.ScoreGiven = &v
	}
	ss.Score.Timestamp, ss.SentAt = fromMicros(ts), fromMicros(sent)
	return ss, true, nil
}

// RecordConfirmed stores confirmed scores and marks their grade revisions, in one transaction.
func (s *Store) RecordConfirmed(ctx context.Context, cs []jobs.Confirmed) error {
	return s.RecordDeliveries(ctx, cs, nil)
}

// RecordDeliveries stores confirmed scores, marks their grade revisions, clears the failures they end and
// records new failures, in one transaction of a few multi-row statements (a grade sync writes thousands).
func (s *Store) RecordDeliveries(ctx context.Context, cs []jobs.Confirmed, fs []jobs.Failure) error {
	if len(cs) == 0 && len(fs) == 0 {
		return nil
	}
	// One row per key: PostgreSQL refuses an upsert that touches a row twice.
	type linkUser struct{ link, user int64 }
	type markKey struct {
		target string
		grade  int64
	}
	scores := map[linkUser]jobs.SentScore{}
	var scoreOrder []linkUser
	marks := map[markKey]int64{}
	var markOrder []markKey
	for _, cf := range cs {
		// LinkID 0 or less: nothing was sent (unchanged score), only marks to write.
		if ss := cf.Sent; ss.LinkID > 0 {
			k := linkUser{ss.LinkID, ss.UserID}
			if _, seen := scores[k]; !seen {
				scoreOrder = append(scoreOrder, k)
			}
			scores[k] = ss
		}
		for _, m := range cf.Marks {
			k := markKey{cf.Target, m.GradeID}
			if r, seen := marks[k]; !seen {
				markOrder = append(markOrder, k)
				marks[k] = m.Revision
			} else if m.Revision > r {
				marks[k] = m.Revision
			}
		}
	}
	fails := map[linkUser]jobs.Failure{}
	var failOrder []linkUser
	for _, f := range fs {
		k := linkUser{f.LinkID, f.UserID}
		if _, ok := scores[k]; ok {
			continue // confirmed in the same step: not failed
		}
		if _, seen := fails[k]; !seen {
			failOrder = append(failOrder, k)
		}
		fails[k] = f
	}
	return s.inTx(ctx, func(c conn) error {
		err := batched(len(scoreOrder), func(from, n int) error {
			args := make([]any, 0, n*10)
			for _, k := range scoreOrder[from : from+n] {
				ss := scores[k]
				var given sql.NullFloat64
				if ss.Score.ScoreGiven != nil {
					given = sql.NullFloat64{Float64: *ss.Score.ScoreGiven, Valid: true}
				}
				args = append(args, ss.LinkID, ss.UserID, ss.LineItemURL, given, ss.Score.ScoreMaximum, ss.Score.Comment,
					ss.Score.ActivityProgress, ss.Score.GradingProgress, micros(ss.Score.Timestamp), micros(ss.SentAt))
			}
			if _, err := c.exec(ctx, `INSERT INTO sync_scores (resource_link_id, user_id, lineitem_url, score_given, score_maximum,
				comment, activity_progress, grading_progress, score_timestamp, sent_at) VALUES `+rowPlaceholders(n, 10, "")+`
				ON CONFLICT (resource_link_id, user_id) DO UPDATE SET lineitem_url = excluded.lineitem_url,
				score_given = excluded.score_given, score_maximum = excluded.score_maximum, comment = excluded.comment,
				activity_progress = excluded.activity_progress, grading_progress = excluded.grading_progress,
				score_timestamp = excluded.score_timestamp, sent_at = excluded.sent_at`, args...); err != nil {
				return err
			}
			args = args[:0]
			for _, k := range scoreOrder[from : from+n] {
				args = append(args, k.link, k.user)
			}
			_, err := c.exec(ctx, `DELETE FROM sync_failures WHERE (resource_link_id, user_id) IN (VALUES `+rowPlaceholders(n, 2, "BIGINT")+`)`, args...)
			return err
		})
		if err != nil {
			return err
		}
		err = batched(len(markOrder), func(from, n int) error {
			args := make([]any, 0, n*3)
			for _, k := range markOrder[from : from+n] {
				args = append(args, k.target, k.grade, marks[k])
			}
			_, err := c.exec(ctx, `INSERT INTO grade_sync_marks AS m (target, grade_id, revision) VALUES `+rowPlaceholders(n, 3, "")+`
				ON CONFLICT (target, grade_id) DO UPDATE
				SET revision = CASE WHEN excluded.revision > m.revision THEN excluded.revision ELSE m.revision END`, args...)
			return err
		})
		if err != nil {
			return err
		}
		err = batched(len(failOrder), func(from, n int) error {
			args := make([]any, 0, n*4)
			for _, k := range failOrder[from : from+n] {
				f := fails[k]
				args = append(args, f.LinkID, f.UserID, f.Error, micros(f.At))
			}
			_, err := c.exec(ctx, `INSERT INTO sync_failures AS f (resource_link_id, user_id, error, failed_at) VALUES `+rowPlaceholders(n, 4, "")+`
				ON CONFLICT (resource_link_id, user_id) DO UPDATE SET error = excluded.error, failed_at = excluded.failed_at,
				attempts = f.attempts + 1`, args...)
			return err
		})
		if err != nil {
			return err
		}
		// The charts' history of deliveries per platform (stats.go).
		sent := make([]jobs.SentScore, 0, len(scoreOrder))
		for _, k := range scoreOrder {
			sent = append(sent, scores[k])
		}
		failed := make([]jobs.Failure, 0, len(failOrder))
		for _, k := range failOrder {
			failed = append(failed, fails[k])
		}
		return countScores(ctx, c, sent, failed)
	})
}

// batched calls fn over [0, total) in chunks of 256, 64, 16, 4 and 1 rows, so that multi-row statements come in
// a handful of shapes (SQLite caches them prepared) and stay well under both engines' parameter limits.
func batched(total int, fn func(from, n int) error) error {
	from := 0
	for _, size := range []int{256, 64, 16, 4, 1} {
		for total-from >= size {
			if err := fn(from, size); err != nil {
				return err
			}
			from += size
		}
	}
	return nil
}

// rowPlaceholders is "($1, $2), ($3, $4)" for rows of cols values, each cast to typ when given (VALUES outside
// an INSERT gives PostgreSQL no column to infer parameter types from).
func rowPlaceholders(rows, cols int, typ string) string {
	var b strings.Builder
	n := 1
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			if typ != "" {
				b.WriteString("CAST(")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			if typ != "" {
				b.WriteString(" AS " + typ + ")")
			}
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// ClaimLink makes holder the link's grade sender until `until`, unless another claim is still valid at now.
func (s *Store) ClaimLink(ctx context.Context, linkID int64, holder string, until, now time.Time) (bool, error) {
	res, err := s.c().exec(ctx, `INSERT INTO sync_link_claims (resource_link_id, holder, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (resource_link_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE sync_link_claims.expires_at < $4 OR sync_link_claims.holder = excluded.holder`,
		linkID, holder, micros(until), micros(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr(err)
}

// RenewLink extends holder's claim on a link; false when holder no longer has it.
func (s *Store) RenewLink(ctx context.Context, linkID int64, holder string, until time.Time) (bool, error) {
	res, err := s.c().exec(ctx, `UPDATE sync_link_claims SET expires_at = $3 WHERE resource_link_id = $1 AND holder = $2`,
		linkID, holder, micros(until))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr(err)
}

// ReleaseLink ends holder's claim on a link.
func (s *Store) ReleaseLink(ctx context.Context, linkID int64, holder string) error {
	_, err := s.c().exec(ctx, `DELETE FROM sync_link_claims WHERE resource_link_id = $1 AND holder = $2`, linkID, holder)
	return err
}

// SeeMembers records the platform users a run saw active in a link's roster (one upsert; see roster.go).
func (s *Store) SeeMembers(ctx context.Context, linkID, runID int64, ltiUserIDs []int64) error {
	if len(ltiUserIDs) == 0 {
		return nil
	}
	list, err := jsonParam(ltiUserIDs)
	if err != nil {
		return err
	}
	_, err = s.c().exec(ctx, `INSERT INTO sync_members (resource_link_id, lti_user_id, run_id)
		SELECT $1, seen.v, $2 FROM (`+s.jsonList(3, "BIGINT")+`) AS seen WHERE TRUE
		ON CONFLICT (resource_link_id, lti_user_id) DO UPDATE SET run_id = excluded.run_id`, linkID, runID, list)
	return err
}

// StaleEnrolments lists the enrolments a resource made before the run started for users of a link whom the run
// did not see active, unless another link of the same resource saw them in its last complete listing (or was
// never listed), or they launched through the link since the run started.
func (s *Store) StaleEnrolments(ctx context.Context, linkID, resourceID, courseID, runID int64, startedAt time.Time) ([]jobs.StaleEnrolment, error) {
	rows, err := s.c().query(ctx, `SELECT DISTINCT e.id, e.user_id FROM enrolments e
		JOIN lti_users lu ON lu.user_id = e.user_id
		JOIN lti_resource_links l ON l.id = $1 AND (lu.registration_id = l.registration_id OR lu.registration_id IS NULL)
		LEFT JOIN sync_members sm ON sm.resource_link_id = $1 AND sm.lti_user_id = lu.id
		WHERE e.course_id = $3 AND e.method = 'lti' AND e.published_resource_id = $2 AND e.created_at < $5
		AND (sm.lti_user_id IS NOT NULL OR EXISTS (SELECT 1 FROM lti_user_links ul WHERE ul.resource_link_id = $1 AND ul.lti_user_id = lu.id))
		AND (sm.run_id IS NULL OR sm.run_id <> $4)
		AND NOT EXISTS (SELECT 1 FROM lti_user_links nl WHERE nl.resource_link_id = $1 AND nl.lti_user_id = lu.id AND nl.last_launch_at >= $5)
		AND NOT EXISTS (SELECT 1 FROM lti_resource_links o
			LEFT JOIN sync_links ol ON ol.resource_link_id = o.id
			LEFT JOIN sync_members om ON om.resource_link_id = o.id AND om.lti_user_id = lu.id
			WHERE o.published_resource_id = $2 AND o.id <> $1
			AND (EXISTS (SELECT 1 FROM lti_user_links oul WHERE oul.resource_link_id = o.id AND oul.lti_user_id = lu.id)
				OR om.lti_user_id IS NOT NULL)
			AND (ol.members_run_id IS NULL OR ol.members_run_id = 0 OR om.run_id = ol.members_run_id))
		ORDER BY e.id`, linkID, resourceID, courseID, runID, micros(startedAt))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []jobs.StaleEnrolment
	for rows.Next() {
		var se jobs.StaleEnrolment
		if err := rows.Scan(&se.EnrolmentID, &se.UserID); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, se)
	}
	return out, mapErr(rows.Err())
}

const runColumns = `id, kind, cause, resource_id, job_id, status, started_at, finished_at, links, sent, unchanged, failed,
	created, enrolled, unenrolled, updated, skipped, error, held, note, updated_at`

func scanRun(sc scanner) (jobs.Run, error) {
	var r jobs.Run
	var kind, cause string
	var res sql.NullInt64
	var started, finished, updated int64
	if err := sc.Scan(&r.ID, &kind, &cause, &res, &r.JobID, &r.Status, &started, &finished, &r.Links, &r.Sent, &r.Unchanged,
		&r.Failed, &r.Created, &r.Enrolled, &r.Unenrolled, &r.Updated, &r.Skipped, &r.Error, &r.Held, &r.Note, &updated); err != nil {
		return jobs.Run{}, mapErr(err)
	}
	if updated != 0 {
		r.UpdatedAt = fromMicros(updated)
	}
	r.Kind, r.Cause, r.ResourceID, r.StartedAt = jobs.Kind(kind), jobs.Cause(cause), res.Int64, fromMicros(started)
	if finished != 0 {
		r.FinishedAt = fromMicros(finished)
	}
	return r, nil
}

// StartRun records a run that starts, and keeps the history short: the last 1,000 runs of its kind.
func (s *Store) StartRun(ctx context.Context, r *jobs.Run) error {
	id, err := s.c().insertID(ctx, `INSERT INTO sync_runs (kind, cause, resource_id, job_id, status, started_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, string(r.Kind), string(r.Cause), nullID(r.ResourceID), r.JobID,
		r.Status, micros(r.StartedAt))
	if err != nil {
		return err
	}
	r.ID = id
	if id%100 == 0 {
		_, err = s.c().exec(ctx, `DELETE FROM sync_runs WHERE kind = $1 AND id <= $2`, string(r.Kind), id-1000)
	}
	return err
}

// FinishRun saves a run's outcome.
func (s *Store) FinishRun(ctx context.Context, r jobs.Run) error {
	_, err := s.c().exec(ctx, `UPDATE sync_runs SET status = $2, finished_at = $3, links = $4, sent = $5, unchanged = $6,
		failed = $7, created = $8, enrolled = $9, unenrolled = $10, updated = $11, skipped = $12, error = $13, held = $14,
		note = $15, updated_at = $3 WHERE id = $1`,
		r.ID, r.Status, micros(r.FinishedAt), r.Links, r.Sent, r.Unchanged, r.Failed, r.Created, r.Enrolled, r.Unenrolled,
		r.Updated, r.Skipped, r.Error, r.Held, r.Note)
	return err
}

// SaveRunProgress saves a running run's counts and notes, leaving its status alone (a run that finished
// meanwhile keeps its final record).
func (s *Store) SaveRunProgress(ctx context.Context, r jobs.Run) error {
	_, err := s.c().exec(ctx, `UPDATE sync_runs SET links = $2, sent = $3, unchanged = $4, failed = $5, created = $6,
		enrolled = $7, unenrolled = $8, updated = $9, skipped = $10, held = $11, note = $12, updated_at = $13
		WHERE id = $1 AND status = 'running'`,
		r.ID, r.Links, r.Sent, r.Unchanged, r.Failed, r.Created, r.Enrolled, r.Unenrolled, r.Updated, r.Skipped, r.Held, r.Note,
		micros(r.UpdatedAt))
	return err
}

// Runs lists the latest runs of a kind ("" for all), newest first.
func (s *Store) Runs(ctx context.Context, kind jobs.Kind, limit int) ([]jobs.Run, error) {
	if limit <= 0 {
		limit = 20
	}
	rows, err := s.c().query(ctx, `SELECT `+runColumns+` FROM sync_runs WHERE ($1 = '' OR kind = $1) ORDER BY id DESC LIMIT $2`,
		string(kind), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []jobs.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// Run loads one run.
func (s *Store) Run(ctx context.Context, id int64) (jobs.Run, error) {
	return scanRun(s.c().row(ctx, `SELECT `+runColumns+` FROM sync_runs WHERE id = $1`, id))
}

// deliveryRows is every (link, learner) of a published resource with what grade sync knows of it. $1 resource,
// $2 activity (0: the course total), $3 course.
const deliveryRows = `SELECT l.id AS link_id, COALESCE(NULLIF(l.context_title, ''), NULLIF(l.context_id, ''), l.link_id) AS link_title,
	COALESCE(reg.name, 'LTI 1.1: ' || ll.consumer_key, '') AS platform, u.id AS user_id, u.full_name, u.username, lu.subject,
	ss.user_id AS ss_user, ss.sent_at, ss.score_given, ss.score_maximum, f.user_id AS f_user, f.error, f.failed_at, f.attempts,
	(SELECT MIN(g.modified_at) FROM grades g JOIN activities a ON a.id = g.activity_id
		LEFT JOIN grade_sync_marks m ON m.grade_id = g.id AND m.target = CASE WHEN l.registration_id IS NULL
			THEN 'lis:' || CAST(l.id AS TEXT) ELSE 'ags:' || COALESCE(NULLIF(l.lineitem_url, ''), sl.lineitem_url, '') END
		WHERE g.user_id = u.id AND (g.activity_id = CAST($2 AS BIGINT) OR (CAST($2 AS BIGINT) = 0 AND a.course_id = $3))
		AND (m.revision IS NULL OR g.revision > m.revision)) AS pending_since
	FROM lti_resource_links l
	JOIN lti_user_links ul ON ul.resource_link_id = l.id
	JOIN lti_users lu ON lu.id = ul.lti_user_id
	JOIN users u ON u.id = lu.user_id
	LEFT JOIN registrations reg ON reg.id = l.registration_id
	LEFT JOIN legacy_links ll ON ll.resource_link_id = l.id
	LEFT JOIN sync_links sl ON sl.resource_link_id = l.id
	LEFT JOIN sync_scores ss ON ss.resource_link_id = l.id AND ss.user_id = u.id
	LEFT JOIN sync_failures f ON f.resource_link_id = l.id AND f.user_id = u.id
	WHERE l.published_resource_id = $1
	AND ($4 = '' OR LOWER(u.full_name) LIKE $4 OR LOWER(u.username) LIKE $4 OR LOWER(lu.subject) LIKE $4)`

// GradeDeliveries lists the delivery state of a published resource's grades, one row per link and learner.
func (s *Store) GradeDeliveries(ctx context.Context, resourceID, activityID, courseID int64, q jobs.DeliveryQuery) ([]jobs.Delivery, int, error) {
	search := ""
	if t := strings.TrimSpace(q.Search); t != "" {
		r := strings.NewReplacer(`\`, ``, `%`, ``, `_`, ``)
		search = "%" + strings.ToLower(r.Replace(t)) + "%"
	}
	where := ` WHERE (d.ss_user IS NOT NULL OR d.f_user IS NOT NULL OR d.pending_since IS NOT NULL)`
	if q.FailedOnly {
		where += ` AND d.f_user IS NOT NULL AND d.pending_since IS NOT NULL`
	}
	limit := q.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	args := []any{resourceID, activityID, courseID, search}
	var total int
	if err := s.c().row(ctx, `SELECT COUNT(*) FROM (`+deliveryRows+`) d`+where, args...).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	rows, err := s.c().query(ctx, `SELECT d.link_id, d.link_title, d.platform, d.user_id, d.full_name, d.username, d.subject,
		d.ss_user, d.sent_at, d.score_given, d.score_maximum, d.f_user, d.error, d.failed_at, d.attempts, d.pending_since
		FROM (`+deliveryRows+`) d`+where+` ORDER BY CASE WHEN d.full_name = '' THEN d.username ELSE d.full_name END, d.user_id, d.link_id
		LIMIT $5 OFFSET $6`, append(args, limit, max(q.Offset, 0))...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []jobs.Delivery
	for rows.Next() {
		var d jobs.Delivery
		var ssUser, sentAt, fUser, failedAt, attempts, pending sql.NullInt64
		var given, maxScore sql.NullFloat64
		var msg sql.NullString
		if err := rows.Scan(&d.LinkID, &d.LinkTitle, &d.Platform, &d.UserID, &d.Name, &d.Username, &d.Subject, &ssUser, &sentAt,
			&given, &maxScore, &fUser, &msg, &failedAt, &attempts, &pending); err != nil {
			return nil, 0, mapErr(err)
		}
		if ssUser.Valid {
			d.SentAt, d.SentMaximum = fromMicros(sentAt.Int64), maxScore.Float64
			if given.Valid {
				v := given.Float64
				d.SentScore = &v
			}
		}
		if fUser.Valid {
			d.Error, d.FailedAt, d.Attempts = msg.String, fromMicros(failedAt.Int64), int(attempts.Int64)
		}
		switch {
		case pending.Valid && fUser.Valid:
			d.State, d.PendingSince = jobs.DeliveryFailed, fromMicros(pending.Int64)
		case pending.Valid:
			d.State, d.PendingSince = jobs.DeliveryPending, fromMicros(pending.Int64)
		case ssUser.Valid:
			d.State = jobs.DeliverySent
		default: // refused, and the grade since removed: the refusal is its last word
			d.State = jobs.DeliveryFailed
		}
		out = append(out, d)
	}
	return out, total, mapErr(rows.Err())
}

// ClearFailures forgets the refusals recorded for a resource's links (of one user when userID is set).
func (s *Store) ClearFailures(ctx context.Context, resourceID, userID int64) error {
	_, err := s.c().exec(ctx, `DELETE FROM sync_failures WHERE resource_link_id IN
		(SELECT id FROM lti_resource_links WHERE published_resource_id = $1) AND (CAST($2 AS BIGINT) = 0 OR user_id = $2)`,
		resourceID, userID)
	return err
}

// HasLegacyOutcome reports whether a 1.1 link has an outcome URL for anyone.
func (s *Store) HasLegacyOutcome(ctx context.Context, resourceLinkID int64) (bool, error) {
	var n int
	err := s.c().row(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM legacy_outcomes WHERE resource_link_id = $1 LIMIT 1) o`, resourceLinkID).Scan(&n)
	return n > 0, mapErr(err)
}

// SentNotes lists the scores platforms confirmed for a course's learners, per published activity (0: the course
// total), oldest first; of the users userIDs only, unless it is nil.
func (s *Store) SentNotes(ctx context.Context, courseID int64, userIDs []int64) ([]jobs.SentNote, error) {
	users := ""
	if userIDs != nil {
		users = ` AND ss.user_id IN (` + s.jsonList(2, "BIGINT") + `)`
	}
	list, err := jsonParam(userIDs)
	if err != nil {
		return nil, err
	}
	args := []any{courseID}
	if userIDs != nil {
		args = append(args, list)
	}
	rows, err := s.c().query(ctx, `SELECT ss.user_id, COALESCE(pr.activity_id, 0), COALESCE(reg.name, 'LTI 1.1: ' || ll.consumer_key, ''),
		ss.sent_at FROM sync_scores ss
		JOIN lti_resource_links l ON l.id = ss.resource_link_id
		JOIN published_resources pr ON pr.id = l.published_resource_id
		LEFT JOIN registrations reg ON reg.id = l.registration_id
		LEFT JOIN legacy_links ll ON ll.resource_link_id = l.id
		WHERE pr.course_id = $1`+users+` ORDER BY ss.sent_at`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []jobs.SentNote
	for rows.Next() {
		var n jobs.SentNote
		var at int64
		if err := rows.Scan(&n.UserID, &n.ActivityID, &n.Platform, &at); err != nil {
			return nil, mapErr(err)
		}
		n.At = fromMicros(at)
		out = append(out, n)
	}
	return out, mapErr(rows.Err())
}

// InterruptRuns marks the kind's runs still "running" whose instance stopped: those of job jobID (a job River
// rescued and runs again), or, when jobID is 0, those whose last heartbeat (updated_at, else started_at) is
// before heartbeatBefore; at is when it was noticed. A run that finished meanwhile is left alone (status is no longer running), and a run
// wrongly marked keeps its own final record when it finishes (FinishRun writes unconditionally).
func (s *Store) InterruptRuns(ctx context.Context, kind jobs.Kind, jobID int64, heartbeatBefore, at time.Time, note string) ([]jobs.Run, error) {
	// The run ends at its last heartbeat, its last sign of life, so that its duration is not the time the
	// interruption took to be noticed.
	rows, err := s.c().query(ctx, `UPDATE sync_runs SET status = $5, updated_at = $4,
		finished_at = CASE WHEN updated_at > 0 THEN updated_at ELSE started_at END,
		note = CASE WHEN note = '' THEN $6 ELSE note || $7 END
		WHERE kind = $1 AND status = 'running'
		AND (($2 > 0 AND job_id = $2) OR ($2 = 0 AND (CASE WHEN updated_at > 0 THEN updated_at ELSE started_at END) < $3))
		RETURNING `+runColumns,
		string(kind), jobID, micros(heartbeatBefore), micros(at), jobs.StatusInterrupted, note, "\n"+note)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []jobs.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
