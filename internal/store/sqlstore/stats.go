package sqlstore

import (
	"context"
	"time"

	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/stats"
)

// The figures the pages chart (internal/stats). Each query groups in the database over an indexed time range
// (launch_log_at, score_counts' key, roster_sizes_at) or one course's activities, and returns one row per bucket
// and series, never the rows behind them. Times are Unix microseconds, so integer division by a span's
// microseconds gives its bucket on both engines.

const dayMicros = int64(24 * time.Hour / time.Microsecond)

// LaunchBuckets counts launch log entries per bucket and outcome: accepted launches, and logins or launches
// refused (a login accepted whose launch never came is neither).
func (s *Store) LaunchBuckets(ctx context.Context, since time.Time, bucket time.Duration, registrationID int64) ([]stats.LaunchCount, error) {
	span := bucket.Microseconds()
	rows, err := s.c().query(ctx, `SELECT at / $2 AS b, outcome, COUNT(*) FROM launch_log
		WHERE at >= $1 AND ($3 = 0 OR registration_id = $3) AND (outcome = 'refused' OR stage = 'launch') GROUP BY b, outcome ORDER BY b, outcome`, micros(since), span, registrationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []stats.LaunchCount
	for rows.Next() {
		var c stats.LaunchCount
		var b int64
		if err := rows.Scan(&b, &c.Outcome, &c.Count); err != nil {
			return nil, mapErr(err)
		}
		c.At = fromMicros(b * span)
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// RefusalCodes ranks the codes of refused launch log entries.
func (s *Store) RefusalCodes(ctx context.Context, since time.Time, registrationID int64, limit int) ([]stats.CodeCount, error) {
	rows, err := s.c().query(ctx, `SELECT code, COUNT(*) AS n FROM launch_log
		WHERE at >= $1 AND outcome = 'refused' AND ($2 = 0 OR registration_id = $2)
		GROUP BY code ORDER BY n DESC, code LIMIT $3`, micros(since), registrationID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []stats.CodeCount
	for rows.Next() {
		var c stats.CodeCount
		if err := rows.Scan(&c.Code, &c.Count); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// GradeBands reads the grade counters the triggers on grades keep (migration 00022), of the course's visible
// graded activities: ten rows an activity at most, however many grades.
func (s *Store) GradeBands(ctx context.Context, courseID int64) ([]stats.GradeBand, error) {
	rows, err := s.c().query(ctx, `SELECT gb.activity_id, gb.band, gb.grades FROM activities a
		JOIN grade_bands gb ON gb.activity_id = a.id
		WHERE a.course_id = $1 AND a.visible AND a.type IN ('quiz', 'assignment') AND gb.grades > 0
		ORDER BY gb.activity_id, gb.band`, courseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []stats.GradeBand
	for rows.Next() {
		var b stats.GradeBand
		if err := rows.Scan(&b.ActivityID, &b.Band, &b.Count); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, b)
	}
	return out, mapErr(rows.Err())
}

// ScoreCounts sums score_counts per platform and day.
func (s *Store) ScoreCounts(ctx context.Context, since time.Time) ([]stats.ScoreCount, error) {
	rows, err := s.c().query(ctx, `SELECT sc.registration_id, sc.consumer_key, COALESCE(r.name, ''), sc.hour_at / $2 AS d,
		SUM(sc.sent), SUM(sc.failed)
		FROM score_counts sc LEFT JOIN registrations r ON r.id = sc.registration_id
		WHERE sc.hour_at >= $1 GROUP BY sc.registration_id, sc.consumer_key, r.name, d ORDER BY d`, micros(since), dayMicros)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []stats.ScoreCount
	for rows.Next() {
		var c stats.ScoreCount
		var d int64
		if err := rows.Scan(&c.Platform.RegistrationID, &c.Platform.ConsumerKey, &c.Platform.Name, &d, &c.Sent, &c.Failed); err != nil {
			return nil, mapErr(err)
		}
		c.Day = fromMicros(d * dayMicros)
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}

// RosterSizes gives the largest roster per link and day, of the limit links whose latest day found most
// members, and how many links have samples at all. Grouped and ranked first, named after: the joins run once per
// link and day shown, not once per sample, and a site with thousands of links returns limit × days rows.
func (s *Store) RosterSizes(ctx context.Context, since time.Time, limit int) ([]stats.RosterSize, int, error) {
	rows, err := s.c().query(ctx, `WITH daily AS (
			SELECT resource_link_id AS link, at / $2 AS d, MAX(members) AS members FROM roster_sizes
			WHERE at >= $1 GROUP BY resource_link_id, d),
		latest AS (SELECT link, members, ROW_NUMBER() OVER (PARTITION BY link ORDER BY d DESC) AS rn FROM daily),
		ranked AS (SELECT link, ROW_NUMBER() OVER (ORDER BY members DESC, link) AS rank, COUNT(*) OVER () AS links
			FROM latest WHERE rn = 1)
		SELECT x.link, p.name,
		CASE WHEN l.context_title <> '' THEN l.context_title WHEN l.context_id <> '' THEN l.context_id ELSE l.link_id END,
		COALESCE(r.name, 'LTI 1.1: ' || ll.consumer_key, ''), x.d, x.members, k.links
		FROM daily x
		JOIN ranked k ON k.link = x.link AND k.rank <= $3
		JOIN lti_resource_links l ON l.id = x.link
		JOIN published_resources p ON p.id = l.published_resource_id
		LEFT JOIN registrations r ON r.id = l.registration_id
		LEFT JOIN legacy_links ll ON ll.resource_link_id = l.id
		ORDER BY k.rank, x.d`, micros(since), dayMicros, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []stats.RosterSize
	links := 0
	for rows.Next() {
		var r stats.RosterSize
		var d int64
		if err := rows.Scan(&r.Link.ID, &r.Link.Resource, &r.Link.Context, &r.Link.Platform, &d, &r.Members, &links); err != nil {
			return nil, 0, mapErr(err)
		}
		r.Day = fromMicros(d * dayMicros)
		out = append(out, r)
	}
	return out, links, mapErr(rows.Err())
}

// RecordRosterSize keeps the size of a complete roster listing, for the roster chart.
func (s *Store) RecordRosterSize(ctx context.Context, linkID, runID int64, members int, at time.Time) error {
	_, err := s.c().exec(ctx, `INSERT INTO roster_sizes (resource_link_id, run_id, at, members) VALUES ($1, $2, $3, $4)`,
		linkID, runID, micros(at), members)
	return err
}

// countScores adds what one RecordDeliveries step recorded to score_counts, per hour and platform, in its
// transaction: a count is there exactly when its scores are.
func countScores(ctx context.Context, c conn, scores []jobs.SentScore, fails []jobs.Failure) error {
	type key struct {
		link int64
		hour int64
	}
	type tally struct{ sent, failed int }
	counts := map[key]*tally{}
	var order []key
	add := func(link int64, at time.Time) *tally {
		k := key{link, micros(at.Truncate(time.Hour))}
		t := counts[k]
		if t == nil {
			t = &tally{}
			counts[k] = t
			order = append(order, k)
		}
		return t
	}
	for _, ss := range scores {
		add(ss.LinkID, ss.SentAt).sent++
	}
	for _, f := range fails {
		add(f.LinkID, f.At).failed++
	}
	for _, k := range order {
		t := counts[k]
		if _, err := c.exec(ctx, `INSERT INTO score_counts AS sc (hour_at, registration_id, consumer_key, sent, failed)
			SELECT CAST($1 AS BIGINT), COALESCE(l.registration_id, 0), COALESCE(ll.consumer_key, ''), CAST($3 AS INTEGER), CAST($4 AS INTEGER)
			FROM lti_resource_links l LEFT JOIN legacy_links ll ON ll.resource_link_id = l.id WHERE l.id = $2
			ON CONFLICT (hour_at, registration_id, consumer_key) DO UPDATE
			SET sent = sc.sent + excluded.sent, failed = sc.failed + excluded.failed`, k.hour, k.link, t.sent, t.failed); err != nil {
			return err
		}
	}
	return nil
}
