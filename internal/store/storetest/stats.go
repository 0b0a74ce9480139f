package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/stats"
)

// testStats: the charts' figures, grouped by the database, agree with the rows behind them on every engine.
func testStats(t *testing.T, s Stores) {
	ctx := context.Background()
	l := storeLink(t, s) // of a registration the launches, scores and rosters share
	t.Run("Launches", func(t *testing.T) { testStatsLaunches(t, s, l.RegistrationID) })
	t.Run("GradeBands", func(t *testing.T) { testStatsGradeBands(t, s) })
	t.Run("Scores", func(t *testing.T) { testStatsScores(t, s, l.ID, l.RegistrationID) })
	t.Run("Rosters", func(t *testing.T) {
		day := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
		for i, sample := range []struct {
			at      time.Time
			members int
		}{{day.Add(2 * time.Hour), 30}, {day.Add(20 * time.Hour), 33}, {day.Add(26 * time.Hour), 31}, {day.Add(-time.Hour), 99}} {
			if err := s.RecordRosterSize(ctx, l.ID, int64(i+1), sample.members, sample.at); err != nil {
				t.Fatal(err)
			}
		}
		got, links, err := s.RosterSizes(ctx, day, 5)
		if err != nil || links != 1 {
			t.Fatalf("%v (%d links)", err, links)
		}
		if len(got) != 2 || got[0].Members != 33 || !got[0].Day.Equal(day) || got[1].Members != 31 || !got[1].Day.Equal(day.Add(24*time.Hour)) {
			t.Fatalf("roster sizes per day (the largest listing of the day, none before since): %+v", got)
		}
		if lk := got[0].Link; lk.ID != l.ID || lk.Resource != "Sync 101" || lk.Context != "rl-1" || lk.Platform == "" {
			t.Errorf("link named %+v", lk)
		}
		// Ranked by the latest day's size, at most limit links, and the count of all.
		for i, members := range []int{50, 5} {
			other := publish.ResourceLink{RegistrationID: l.RegistrationID, DeploymentID: l.DeploymentID, LinkID: fmt.Sprintf("rl-rank-%d", i),
				PublishedResourceID: l.PublishedResourceID, ContextTitle: fmt.Sprintf("Rank %d", i), CreatedAt: day, UpdatedAt: day}
			if err := s.SaveResourceLink(ctx, &other); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordRosterSize(ctx, other.ID, 9, members, day.Add(25*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		got, links, err = s.RosterSizes(ctx, day, 2)
		if err != nil || links != 3 || len(got) != 3 || got[0].Link.Context != "Rank 0" || got[1].Link.ID != l.ID || got[2].Link.ID != l.ID ||
			!got[1].Day.Before(got[2].Day) {
			t.Errorf("top 2 of 3 links: %d links, %+v, %v", links, got, err)
		}
	})
}

func testStatsLaunches(t *testing.T, s Stores, regID int64) {
	ctx := context.Background()
	h0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	add := func(at time.Time, regID int64, stage, outcome, code string) {
		t.Helper()
		e := &launch.LogEntry{At: at, RegistrationID: regID, Stage: stage, Outcome: outcome, Code: code}
		if err := s.RecordLaunch(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	add(h0.Add(-time.Minute), regID, launch.StageLaunch, launch.Accepted, "") // before the range
	add(h0, regID, launch.StageLaunch, launch.Accepted, "")
	add(h0.Add(59*time.Minute), regID, launch.StageLaunch, launch.Accepted, "")
	add(h0.Add(30*time.Minute), regID, launch.StageLogin, launch.Accepted, "") // a login whose launch never came: neither
	add(h0.Add(40*time.Minute), 0, launch.StageLogin, launch.Refused, "platform_unknown")
	add(h0.Add(2*time.Hour), regID, launch.StageLaunch, launch.Refused, "state_expired")
	add(h0.Add(2*time.Hour+time.Second), regID, launch.StageLaunch, launch.Refused, "state_expired")
	add(h0.Add(26*time.Hour), regID, launch.StageLaunch, launch.Refused, "nonce_reused")

	got, err := s.LaunchBuckets(ctx, h0, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []stats.LaunchCount{{At: h0, Outcome: launch.Accepted, Count: 2}, {At: h0, Outcome: launch.Refused, Count: 1},
		{At: h0.Add(2 * time.Hour), Outcome: launch.Refused, Count: 2}, {At: h0.Add(26 * time.Hour), Outcome: launch.Refused, Count: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("per hour:\n got %+v\nwant %+v", got, want)
	}
	got, err = s.LaunchBuckets(ctx, h0, 24*time.Hour, regID)
	if err != nil {
		t.Fatal(err)
	}
	day := h0.Truncate(24 * time.Hour)
	want = []stats.LaunchCount{{At: day, Outcome: launch.Accepted, Count: 2}, {At: day, Outcome: launch.Refused, Count: 2},
		{At: day.Add(24 * time.Hour), Outcome: launch.Refused, Count: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("per day, one registration:\n got %+v\nwant %+v", got, want)
	}
	codes, err := s.RefusalCodes(ctx, h0, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []stats.CodeCount{{Code: "state_expired", Count: 2}, {Code: "nonce_reused", Count: 1}}; !reflect.DeepEqual(codes, want) {
		t.Errorf("top codes (ties by name, limit 2): %+v", codes)
	}
	if codes, _ := s.RefusalCodes(ctx, h0, regID, 5); len(codes) != 2 {
		t.Errorf("codes of one registration: %+v", codes)
	}
}

func testStatsGradeBands(t *testing.T, s Stores) {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	c := course.Course{FullName: "Bands", ShortName: "BANDS", Visible: true, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateCourse(ctx, &c, nil); err != nil {
		t.Fatal(err)
	}
	quiz := course.Activity{CourseID: c.ID, Type: course.TypeAssignment, Name: "Quiz", MaxGrade: 10, Visible: true}
	hidden := course.Activity{CourseID: c.ID, Type: course.TypeAssignment, Name: "Hidden", MaxGrade: 10}
	for _, a := range []*course.Activity{&quiz, &hidden} {
		if err := s.CreateActivity(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	grades := []struct {
		grade, max float64
		teacher    bool
	}{{0, 10, false}, {0.7, 1, false}, {7, 10, false}, {7.99, 10, false}, {10, 10, false}, {9.99, 10, false}, {12, 10, false},
		{3, 10, true}}
	var users []account.User
	for i, g := range grades {
		u := storeUser(t, s, fmt.Sprintf("band-%d", i))
		users = append(users, u)
		role := course.RoleStudent
		if g.teacher {
			role = course.RoleTeacher
		}
		if err := s.CreateEnrolment(ctx, &course.Enrolment{CourseID: c.ID, UserID: u.ID, Role: role, Status: course.StatusActive,
			Method: course.MethodManual, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		for _, a := range []course.Activity{quiz, hidden} {
			if _, err := s.PutGrade(ctx, course.GradeChange{ActivityID: a.ID, UserID: u.ID, Grade: g.grade, MaxGrade: g.max, At: now}); err != nil {
				t.Fatal(err)
			}
		}
	}
	bands := func() []stats.GradeBand {
		t.Helper()
		got, err := s.GradeBands(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// 0 → band 0; 3 of 10 (the teacher's) → band 3; 0.7 of 1 and 7 and 7.99 of 10 → band 7; 10, 9.99 and 12 (over
	// the maximum) → band 9; the hidden activity is left out, as the grader report leaves it out.
	want := []stats.GradeBand{{ActivityID: quiz.ID, Band: 0, Count: 1}, {ActivityID: quiz.ID, Band: 3, Count: 1},
		{ActivityID: quiz.ID, Band: 7, Count: 3}, {ActivityID: quiz.ID, Band: 9, Count: 3}}
	if got := bands(); !reflect.DeepEqual(got, want) {
		t.Errorf("grade bands:\n got %+v\nwant %+v", got, want)
	}
	// The counters follow changes: a regrade moves a grade between bands, a deleted account takes its grades.
	if _, err := s.PutGrade(ctx, course.GradeChange{ActivityID: quiz.ID, UserID: users[0].ID, Grade: 5, MaxGrade: 10, At: now}); err != nil {
		t.Fatal(err)
	}
	admin, ok := s.(interface {
		DeleteUser(ctx context.Context, id int64) error
	})
	if !ok {
		t.Fatal("the store cannot delete a user (account.AdminStore)")
	}
	if err := admin.DeleteUser(ctx, users[4].ID); err != nil { // the 10 of 10
		t.Fatal(err)
	}
	want = []stats.GradeBand{{ActivityID: quiz.ID, Band: 3, Count: 1}, {ActivityID: quiz.ID, Band: 5, Count: 1},
		{ActivityID: quiz.ID, Band: 7, Count: 3}, {ActivityID: quiz.ID, Band: 9, Count: 2}}
	if got := bands(); !reflect.DeepEqual(got, want) {
		t.Errorf("after a regrade and a deleted account:\n got %+v\nwant %+v", got, want)
	}
	// Grades changing at once, between the same bands in opposite directions, neither deadlock nor lose a count.
	errs := concurrently(8, func(i int) error {
		g := 1.0
		if i%2 == 0 {
			g = 9.5
		}
		_, err := s.PutGrade(ctx, course.GradeChange{ActivityID: quiz.ID, UserID: users[1+i%2].ID, Grade: g, MaxGrade: 10, At: now})
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for _, b := range bands() {
		total += b.Count
	}
	if total != 7 {
		t.Errorf("%d grades counted after concurrent regrades, want 7: %+v", total, bands())
	}
	// A deleted activity takes its counters along, without a trace.
	if err := s.DeleteActivity(ctx, quiz.ID); err != nil {
		t.Fatal(err)
	}
	if got := bands(); len(got) != 0 {
		t.Errorf("bands of a deleted activity: %+v", got)
	}
}

func testStatsScores(t *testing.T, s Stores, linkID, regID int64) {
	ctx := context.Background()
	h := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	var users []int64
	for i := range 4 {
		users = append(users, storeUser(t, s, fmt.Sprintf("score-%d", i)).ID)
	}
	sent := func(user int64, at time.Time) jobs.Confirmed {
		return jobs.Confirmed{Target: "t", Sent: jobs.SentScore{LinkID: linkID, UserID: user, LineItemURL: "https://lms.example/li/1", SentAt: at}}
	}
	// Two steps of one hour, a failure, an unchanged score (LinkID -1: nothing sent), and the next day.
	if err := s.RecordDeliveries(ctx, []jobs.Confirmed{sent(users[0], h), sent(users[1], h.Add(time.Minute)), {Target: "t", Sent: jobs.SentScore{LinkID: -1}}},
		[]jobs.Failure{{LinkID: linkID, UserID: users[2], Error: "refused", At: h.Add(2 * time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDeliveries(ctx, []jobs.Confirmed{sent(users[2], h.Add(3*time.Hour))}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDeliveries(ctx, []jobs.Confirmed{sent(users[3], h.Add(24*time.Hour))},
		[]jobs.Failure{{LinkID: linkID, UserID: users[0], Error: "refused", At: h.Add(24 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ScoreCounts(ctx, h.Add(-10*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	day := h.Truncate(24 * time.Hour)
	if len(got) != 2 || got[0].Sent != 3 || got[0].Failed != 1 || !got[0].Day.Equal(day) ||
		got[1].Sent != 1 || got[1].Failed != 1 || !got[1].Day.Equal(day.Add(24*time.Hour)) {
		t.Fatalf("scores per day: %+v", got)
	}
	if p := got[0].Platform; p.RegistrationID != regID || p.Name == "" || p.ConsumerKey != "" {
		t.Errorf("platform %+v", p)
	}
	// Concurrent steps of two senders add up (one row per hour and platform, updated in place).
	errs := concurrently(4, func(i int) error {
		return s.RecordDeliveries(ctx, nil, []jobs.Failure{{LinkID: linkID, UserID: users[i], Error: "down", At: h.Add(48 * time.Hour)}})
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ = s.ScoreCounts(ctx, h.Add(47*time.Hour))
	if len(got) != 1 || got[0].Failed != 4 {
		t.Errorf("concurrent failures counted: %+v", got)
	}
}
