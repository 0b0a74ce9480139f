package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
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
		if err := rows.Scan(&p.ID, &p.ActivityID, &p.UserID, &p.Grade.Grade, &p.MaxGrade, &p.Feedback, &by, &at, &p.Revision,
			&p.Subject); err != nil {
			return nil, mapErr(err)
		}
		p.GradedBy, p.ModifiedAt = by.Int64, fromMicros(at)
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

// PendingActivityGrades lists one activity's grades changed since target confirmed them, for users of the link.
func (s *Store) PendingActivityGrades(ctx context.Context, linkID, activityID int64, target string, userID, afterGradeID int64, limit int) ([]jobs.PendingGrade, error) {
	return s.pendingGrades(ctx, `SELECT `+gradeColumns+`, lu.subject FROM lti_user_links ul
		JOIN lti_users lu ON lu.id = ul.lti_user_id
		JOIN grades g ON g.user_id = lu.user_id AND g.activity_id = $2
		LEFT JOIN grade_sync_marks m ON m.target = $3 AND m.grade_id = g.id
		WHERE ul.resource_link_id = $1 AND (m.revision IS NULL OR g.revision > m.revision)
		AND (CAST($4 AS BIGINT) = 0 OR lu.user_id = $4) AND g.id > $5
		ORDER BY g.id LIMIT $6`, linkID, activityID, target, userID, afterGradeID, limit)
}

// PendingCourseGrades lists a course's grades changed since target confirmed them, for users of the link.
func (s *Store) PendingCourseGrades(ctx context.Context, linkID, courseID int64, target string, userID, afterUserID int64, limit int) ([]jobs.PendingGrade, error) {
	return s.pendingGrades(ctx, `SELECT `+gradeColumns+`, lu.subject FROM lti_user_links ul
		JOIN lti_users lu ON lu.id = ul.lti_user_id
		JOIN grades g ON g.user_id = lu.user_id
		JOIN activities a ON a.id = g.activity_id AND a.course_id = $2
		LEFT JOIN grade_sync_marks m ON m.target = $3 AND m.grade_id = g.id
		WHERE ul.resource_link_id = $1 AND (m.revision IS NULL OR g.revision > m.revision)
		AND (CAST($4 AS BIGINT) = 0 OR lu.user_id = $4) AND g.user_id > $5
		ORDER BY g.user_id, g.id LIMIT $6`, linkID, courseID, target, userID, afterUserID, limit)
}

// UserCourseGrades lists a user's grades in a course's visible graded activities, and counts those activities.
func (s *Store) UserCourseGrades(ctx context.Context, courseID, userID int64) ([]course.Grade, int, error) {
	var n int
	if err := s.c().row(ctx, `SELECT COUNT(*) FROM activities WHERE course_id = $1 AND visible AND type IN ('quiz', 'assignment')`,
		courseID).Scan(&n); err != nil {
		return nil, 0, mapErr(err)
	}
	gs, err := s.grades(ctx, `SELECT `+gradeColumns+` FROM grades g JOIN activities a ON a.id = g.activity_id
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
	if len(cs) == 0 {
		return nil
	}
	return s.inTx(ctx, func(c conn) error {
		for _, cf := range cs {
			ss := cf.Sent
			var given sql.NullFloat64
			if ss.Score.ScoreGiven != nil {
				given = sql.NullFloat64{Float64: *ss.Score.ScoreGiven, Valid: true}
			}
			// LinkID 0 or less: nothing was sent (unchanged score), only marks to write.
			if ss.LinkID <= 0 {
			} else if _, err := c.exec(ctx, `INSERT INTO sync_scores (resource_link_id, user_id, lineitem_url, score_given, score_maximum,
				comment, activity_progress, grading_progress, score_timestamp, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (resource_link_id, user_id) DO UPDATE SET lineitem_url = excluded.lineitem_url,
				score_given = excluded.score_given, score_maximum = excluded.score_maximum, comment = excluded.comment,
				activity_progress = excluded.activity_progress, grading_progress = excluded.grading_progress,
				score_timestamp = excluded.score_timestamp, sent_at = excluded.sent_at`,
				ss.LinkID, ss.UserID, ss.LineItemURL, given, ss.Score.ScoreMaximum, ss.Score.Comment, ss.Score.ActivityProgress,
				ss.Score.GradingProgress, micros(ss.Score.Timestamp), micros(ss.SentAt)); err != nil {
				return err
			}
			for _, m := range cf.Marks {
				if _, err := c.exec(ctx, `INSERT INTO grade_sync_marks AS m (target, grade_id, revision) VALUES ($1, $2, $3)
					ON CONFLICT (target, grade_id) DO UPDATE
					SET revision = CASE WHEN excluded.revision > m.revision THEN excluded.revision ELSE m.revision END`,
					cf.Target, m.GradeID, m.Revision); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// SeeMembers records the platform users a run saw active in a link's roster.
func (s *Store) SeeMembers(ctx context.Context, linkID, runID int64, ltiUserIDs []int64) error {
	if len(ltiUserIDs) == 0 {
		return nil
	}
	return s.inTx(ctx, func(c conn) error {
		for _, id := range ltiUserIDs {
			if _, err := c.exec(ctx, `INSERT INTO sync_members (resource_link_id, lti_user_id, run_id) VALUES ($1, $2, $3)
				ON CONFLICT (resource_link_id, lti_user_id) DO UPDATE SET run_id = excluded.run_id`, linkID, id, runID); err != nil {
				return err
			}
		}
		return nil
	})
}

// StaleEnrolments lists the enrolments a resource made for users of a link whom the run did not see active,
// unless another link of the same resource saw them in its last complete listing (or was never listed).
func (s *Store) StaleEnrolments(ctx context.Context, linkID, resourceID, courseID, runID int64) ([]jobs.StaleEnrolment, error) {
	rows, err := s.c().query(ctx, `SELECT DISTINCT e.id, e.user_id FROM enrolments e
		JOIN lti_users lu ON lu.user_id = e.user_id
		JOIN lti_resource_links l ON l.id = $1 AND (lu.registration_id = l.registration_id OR lu.registration_id IS NULL)
		LEFT JOIN sync_members sm ON sm.resource_link_id = $1 AND sm.lti_user_id = lu.id
		WHERE e.course_id = $3 AND e.method = 'lti' AND e.published_resource_id = $2
		AND (sm.lti_user_id IS NOT NULL OR EXISTS (SELECT 1 FROM lti_user_links ul WHERE ul.resource_link_id = $1 AND ul.lti_user_id = lu.id))
		AND (sm.run_id IS NULL OR sm.run_id <> $4)
		AND NOT EXISTS (SELECT 1 FROM lti_resource_links o
			LEFT JOIN sync_links ol ON ol.resource_link_id = o.id
			LEFT JOIN sync_members om ON om.resource_link_id = o.id AND om.lti_user_id = lu.id
			WHERE o.published_resource_id = $2 AND o.id <> $1
			AND (EXISTS (SELECT 1 FROM lti_user_links oul WHERE oul.resource_link_id = o.id AND oul.lti_user_id = lu.id)
				OR om.lti_user_id IS NOT NULL)
			AND (ol.members_run_id IS NULL OR ol.members_run_id = 0 OR om.run_id = ol.members_run_id))
		ORDER BY e.id`, linkID, resourceID, courseID, runID)
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
	created, enrolled, unenrolled, updated, skipped, error`

func scanRun(sc scanner) (jobs.Run, error) {
	var r jobs.Run
	var kind, cause string
	var res sql.NullInt64
	var started, finished int64
	if err := sc.Scan(&r.ID, &kind, &cause, &res, &r.JobID, &r.Status, &started, &finished, &r.Links, &r.Sent, &r.Unchanged,
		&r.Failed, &r.Created, &r.Enrolled, &r.Unenrolled, &r.Updated, &r.Skipped, &r.Error); err != nil {
		return jobs.Run{}, mapErr(err)
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
		failed = $7, created = $8, enrolled = $9, unenrolled = $10, updated = $11, skipped = $12, error = $13 WHERE id = $1`,
		r.ID, r.Status, micros(r.FinishedAt), r.Links, r.Sent, r.Unchanged, r.Failed, r.Created, r.Enrolled, r.Unenrolled,
		r.Updated, r.Skipped, r.Error)
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
