package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/ltipub/ltipub/internal/jobs"
)

// Member sync claims and held unenrolments (jobs.MemberSyncStore).

// ClaimMemberLink takes a link's claim for run unless an unexpired claim of another run holds it. The upsert's
// condition decides atomically on both engines (SQLite's single writer; PostgreSQL's row lock on the conflict).
func (s *Store) ClaimMemberLink(ctx context.Context, linkID, runID int64, now time.Time, lease time.Duration) (jobs.MemberClaim, bool, error) {
	for range 3 {
		var got int64
		err := s.c().row(ctx, `INSERT INTO member_sync_claims AS c (resource_link_id, run_id, started_at, expires_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (resource_link_id) DO UPDATE SET run_id = excluded.run_id,
			started_at = excluded.started_at, expires_at = excluded.expires_at
			WHERE c.expires_at <= $3 OR c.run_id = $2 RETURNING run_id`,
			linkID, runID, micros(now), micros(now.Add(lease))).Scan(&got)
		if err == nil {
			return jobs.MemberClaim{}, true, nil
		}
		if err != sql.ErrNoRows {
			return jobs.MemberClaim{}, false, mapErr(err)
		}
		held, ok, err := s.MemberClaimOf(ctx, linkID)
		if err != nil {
			return jobs.MemberClaim{}, false, err
		}
		if ok {
			return held, false, nil
		}
		// Released between the two statements: try again.
	}
	return jobs.MemberClaim{}, false, nil
}

// RenewMemberClaim extends run's claim; false when the run no longer holds it.
func (s *Store) RenewMemberClaim(ctx context.Context, linkID, runID int64, now time.Time, lease time.Duration) (bool, error) {
	res, err := s.c().exec(ctx, `UPDATE member_sync_claims SET expires_at = $3 WHERE resource_link_id = $1 AND run_id = $2`,
		linkID, runID, micros(now.Add(lease)))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseMemberClaim ends run's claim (a claim another run took over stays).
func (s *Store) ReleaseMemberClaim(ctx context.Context, linkID, runID int64) error {
	_, err := s.c().exec(ctx, `DELETE FROM member_sync_claims WHERE resource_link_id = $1 AND run_id = $2`, linkID, runID)
	return err
}

// MemberClaimOf reads the claim on a link.
func (s *Store) MemberClaimOf(ctx context.Context, linkID int64) (jobs.MemberClaim, bool, error) {
	c := jobs.MemberClaim{LinkID: linkID}
	var started, expires int64
	err := s.c().row(ctx, `SELECT run_id, started_at, expires_at FROM member_sync_claims WHERE resource_link_id = $1`, linkID).
		Scan(&c.RunID, &started, &expires)
	if err == sql.ErrNoRows {
		return jobs.MemberClaim{}, false, nil
	}
	if err != nil {
		return jobs.MemberClaim{}, false, mapErr(err)
	}
	c.StartedAt, c.ExpiresAt = fromMicros(started), fromMicros(expires)
	return c, true, nil
}

// LinkMemberCount counts the enrolments a resource made before startedAt for users of a link (launched through
// it, or seen in its roster).
func (s *Store) LinkMemberCount(ctx context.Context, linkID, resourceID, courseID int64, startedAt time.Time) (int, error) {
	var n int
	err := s.c().row(ctx, `SELECT COUNT(DISTINCT e.id) FROM enrolments e
		JOIN lti_users lu ON lu.user_id = e.user_id
		JOIN lti_resource_links l ON l.id = $1 AND (lu.registration_id = l.registration_id OR lu.registration_id IS NULL)
		WHERE e.course_id = $3 AND e.method = 'lti' AND e.published_resource_id = $2 AND e.created_at < $4
		AND (EXISTS (SELECT 1 FROM sync_members sm WHERE sm.resource_link_id = $1 AND sm.lti_user_id = lu.id)
			OR EXISTS (SELECT 1 FROM lti_user_links ul WHERE ul.resource_link_id = $1 AND ul.lti_user_id = lu.id))`,
		linkID, resourceID, courseID, micros(startedAt)).Scan(&n)
	return n, mapErr(err)
}

// PutMemberHold records (or replaces) a link's held unenrolments.
func (s *Store) PutMemberHold(ctx context.Context, h jobs.MemberHold) error {
	_, err := s.c().exec(ctx, `INSERT INTO member_sync_holds (resource_link_id, published_resource_id, run_id, would_unenrol,
		members, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (resource_link_id) DO UPDATE SET
		published_resource_id = excluded.published_resource_id, run_id = excluded.run_id, would_unenrol = excluded.would_unenrol,
		members = excluded.members, reason = excluded.reason, created_at = excluded.created_at`,
		h.LinkID, h.ResourceID, h.RunID, h.WouldUnenrol, h.Members, h.Reason, micros(h.CreatedAt))
	return err
}

// ClearMemberHold drops a link's held unenrolments (applied, or no longer wanted).
func (s *Store) ClearMemberHold(ctx context.Context, linkID int64) error {
	_, err := s.c().exec(ctx, `DELETE FROM member_sync_holds WHERE resource_link_id = $1`, linkID)
	return err
}

// MemberHolds lists held unenrolments, newest first, with the resource's name and the link's course title.
func (s *Store) MemberHolds(ctx context.Context) ([]jobs.MemberHold, error) {
	rows, err := s.c().query(ctx, `SELECT h.resource_link_id, h.published_resource_id, h.run_id, h.would_unenrol, h.members,
		h.reason, h.created_at, COALESCE(r.name, ''), COALESCE(NULLIF(l.context_title, ''), l.context_id, '')
		FROM member_sync_holds h LEFT JOIN published_resources r ON r.id = h.published_resource_id
		LEFT JOIN lti_resource_links l ON l.id = h.resource_link_id ORDER BY h.created_at DESC LIMIT 100`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []jobs.MemberHold
	for rows.Next() {
		var h jobs.MemberHold
		var at int64
		if err := rows.Scan(&h.LinkID, &h.ResourceID, &h.RunID, &h.WouldUnenrol, &h.Members, &h.Reason, &at, &h.ResourceName,
			&h.LinkTitle); err != nil {
			return nil, mapErr(err)
		}
		h.CreatedAt = fromMicros(at)
		out = append(out, h)
	}
	return out, mapErr(rows.Err())
}

var _ jobs.MemberSyncStore = (*Store)(nil)
