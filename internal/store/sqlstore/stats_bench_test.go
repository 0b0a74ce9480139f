package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
	"github.com/ltipub/ltipub/internal/tool"
)

// statsRows is how many rows lie behind each chart in the benchmark: 50,000 launches over 30 days, 50,000 grades
// (10,000 students × 5 activities), 50,000 roster samples (100 links × 500 listings).
const statsRows = 50000

// seedStats fills a store with statsRows rows per chart, in a few set-based statements.
func seedStats(tb testing.TB, s *sqlstore.Store) (courseID int64, now time.Time) {
	tb.Helper()
	ctx := context.Background()
	now = time.Now().UTC()
	exec := func(q string) {
		tb.Helper()
		if _, err := s.DB().ExecContext(ctx, q); err != nil {
			tb.Fatalf("%v\n%s", err, q)
		}
	}
	nowUS := now.UnixMicro()
	spread := (30 * 24 * time.Hour).Microseconds() / statsRows
	exec(fmt.Sprintf(`INSERT INTO launch_log (at, stage, outcome, code)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
		SELECT %d - CAST(i AS BIGINT) * %d, 'launch', CASE WHEN i %% 7 = 0 THEN 'refused' ELSE 'accepted' END,
		CASE WHEN i %% 7 = 0 THEN 'code_' || (i %% 5) ELSE '' END FROM n`, statsRows, nowUS, spread))

	c := course.Course{FullName: "Big", ShortName: "BIG", Visible: true, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateCourse(ctx, &c, nil); err != nil {
		tb.Fatal(err)
	}
	for i := range 5 {
		a := course.Activity{CourseID: c.ID, Type: course.TypeAssignment, Name: fmt.Sprintf("A%d", i), MaxGrade: 100, Visible: true}
		if err := s.CreateActivity(ctx, &a); err != nil {
			tb.Fatal(err)
		}
	}
	exec(fmt.Sprintf(`INSERT INTO users (username, created_at, updated_at)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
		SELECT 'bench' || i, 0, 0 FROM n`, statsRows/5))
	exec(fmt.Sprintf(`INSERT INTO enrolments (course_id, user_id, role, status, method, created_at, updated_at)
		SELECT %d, id, 'student', 'active', 'manual', 0, 0 FROM users WHERE username LIKE 'bench%%'`, c.ID))
	exec(fmt.Sprintf(`INSERT INTO grades (activity_id, user_id, grade, max_grade, modified_at)
		SELECT a.id, u.id, (u.id * 7 + a.id) %% 101, 100, 0 FROM users u CROSS JOIN activities a
		WHERE u.username LIKE 'bench%%' AND a.course_id = %d`, c.ID))

	reg := tool.Registration{Name: "Bench", Issuer: "https://bench.example", ClientID: "c"}
	if err := s.CreateRegistration(ctx, &reg); err != nil {
		tb.Fatal(err)
	}
	r := publish.Resource{UUID: uuid.NewString(), CourseID: c.ID, Name: "Big", Enabled: true, StudentMode: publish.ModeAuto,
		TeacherMode: publish.ModeAuto, MemberSyncMode: publish.SyncEnrolAndUnenrol, LearnerRole: course.RoleStudent,
		InstructorRole: course.RoleTeacher, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateResource(ctx, &r); err != nil {
		tb.Fatal(err)
	}
	for i := range 100 {
		l := publish.ResourceLink{RegistrationID: reg.ID, DeploymentID: "d", LinkID: fmt.Sprintf("rl-%d", i), PublishedResourceID: r.ID,
			CreatedAt: now, UpdatedAt: now}
		if err := s.SaveResourceLink(ctx, &l); err != nil {
			tb.Fatal(err)
		}
	}
	exec(fmt.Sprintf(`INSERT INTO roster_sizes (resource_link_id, run_id, at, members)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
		SELECT l.id, n.i, %d - CAST(n.i AS BIGINT) * %d, 20 + (n.i + l.id) %% 30 FROM n CROSS JOIN lti_resource_links l`, statsRows/100, nowUS, spread*100))
	exec(fmt.Sprintf(`INSERT INTO score_counts (hour_at, registration_id, sent, failed)
		WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
		SELECT %d - CAST(i AS BIGINT) * 3600000000, %d, 40, i %% 3 FROM n`, 30*24, now.Truncate(time.Hour).UnixMicro(), reg.ID))
	if s.Engine() == sqlstore.Postgres {
		exec(`ANALYZE`)
	}
	return c.ID, now
}

// BenchmarkStats times each chart's query over statsRows rows, on both engines:
//
//	go test ./internal/store/sqlstore -run '^$' -bench Stats -benchtime 20x
func BenchmarkStats(b *testing.B) {
	for _, e := range sqltest.Engines {
		b.Run(string(e), func(b *testing.B) {
			s := sqltest.Open(b, e)
			courseID, now := seedStats(b, s)
			ctx := context.Background()
			month := now.Add(-30 * 24 * time.Hour)
			queries := []struct {
				name string
				run  func() error
			}{
				{"LaunchBuckets", func() error { _, err := s.LaunchBuckets(ctx, month, time.Hour, 0); return err }},
				{"RefusalCodes", func() error { _, err := s.RefusalCodes(ctx, month, 0, 5); return err }},
				{"GradeBands", func() error { _, err := s.GradeBands(ctx, courseID); return err }},
				{"ScoreCounts", func() error { _, err := s.ScoreCounts(ctx, month); return err }},
				{"RosterSizes", func() error { _, _, err := s.RosterSizes(ctx, month, 6); return err }},
			}
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						if err := q.run(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// TestStatsQueriesSeekByTime: on 50,000 rows the time-ranged chart queries read the range through an index (a
// SEARCH in SQLite's plan, not a SCAN of the table), and the figures add up to the rows seeded.
func TestStatsQueriesSeekByTime(t *testing.T) {
	t.Parallel()
	s := sqltest.Open(t, sqlstore.SQLite)
	courseID, now := seedStats(t, s)
	ctx := context.Background()
	for _, q := range []struct{ table, sql string }{
		{"launch_log", `SELECT at / 3600000000 AS b, outcome, COUNT(*) FROM launch_log WHERE at >= 1 AND (0 = 0 OR registration_id = 0)
			AND (outcome = 'refused' OR stage = 'launch') GROUP BY b, outcome`},
		{"roster_sizes", `SELECT resource_link_id, MAX(members) FROM roster_sizes WHERE at >= 1 GROUP BY resource_link_id`},
		{"score_counts", `SELECT registration_id, SUM(sent) FROM score_counts WHERE hour_at >= 1 GROUP BY registration_id`},
	} {
		rows, err := s.DB().QueryContext(ctx, "EXPLAIN QUERY PLAN "+q.sql)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "SEARCH "+q.table) || strings.Contains(p, "SCAN "+q.table) {
			t.Errorf("%s is not read by time through an index: %s", q.table, p)
		}
	}
	counts, err := s.LaunchBuckets(ctx, now.Add(-31*24*time.Hour), 24*time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range counts {
		total += c.Count
	}
	if total != statsRows {
		t.Errorf("daily launch counts add up to %d, want %d", total, statsRows)
	}
	bands, err := s.GradeBands(ctx, courseID)
	if err != nil {
		t.Fatal(err)
	}
	total = 0
	for _, b := range bands {
		total += b.Count
	}
	if total != statsRows || len(bands) != 50 {
		t.Errorf("grade bands: %d grades in %d bands, want %d in 50", total, len(bands), statsRows)
	}
}
