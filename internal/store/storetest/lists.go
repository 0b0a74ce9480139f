package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/tool"
)

// testPagedLists checks the paged lists' queries (issue 18): filters, search in any case, counts, and an order
// that is stable across pages even where the sort key repeats (the id breaks ties).
func testPagedLists(t *testing.T, s Stores) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	c := course.Course{FullName: "Lists", ShortName: "LISTS", Visible: true, CreatedAt: now, UpdatedAt: now}
	other := course.Course{FullName: "Other", ShortName: "OTHER", Visible: true, CreatedAt: now, UpdatedAt: now}
	for _, co := range []*course.Course{&c, &other} {
		if err := s.CreateCourse(ctx, co, nil); err != nil {
			t.Fatal(err)
		}
	}
	quiz := course.Activity{CourseID: c.ID, Type: course.TypeQuiz, Name: "Quiz", MaxGrade: 10, Visible: true}
	if err := s.CreateActivity(ctx, &quiz); err != nil {
		t.Fatal(err)
	}
	// 30 people; names repeat in threes ("Ann 00", "Ann 00", "Ann 00", "Ann 01"…), the username is unique.
	const n = 30
	var people []account.User
	var enrolments []course.Enrolment
	for i := range n {
		u := account.User{Username: fmt.Sprintf("user%02d", i), FullName: fmt.Sprintf("Ann %02d", i/3), Email: fmt.Sprintf("U%02d@Mail.example", i),
			Auth: account.AuthManual, CreatedAt: now, UpdatedAt: now}
		if i == n-1 {
			u.FullName = "" // shown (and sorted in the grader report) by username
		}
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		people = append(people, u)
		e := course.Enrolment{CourseID: c.ID, UserID: u.ID, Role: course.RoleStudent, Status: course.StatusActive, Method: course.MethodManual,
			CreatedAt: now, UpdatedAt: now}
		if i%5 == 0 {
			e.Role = course.RoleTeacher
		}
		if i%2 == 0 {
			e.Status = course.StatusSuspended
		}
		if err := s.CreateEnrolment(ctx, &e); err != nil {
			t.Fatal(err)
		}
		enrolments = append(enrolments, e)
		// A second, LTI enrolment for the first four: the grader report still lists each of them once.
		if i < 4 {
			e2 := course.Enrolment{CourseID: c.ID, UserID: u.ID, Role: course.RoleStudent, Status: course.StatusActive, Method: course.MethodLTI,
				CreatedAt: now, UpdatedAt: now}
			if err := s.CreateEnrolment(ctx, &e2); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.PutGrade(ctx, course.GradeChange{ActivityID: quiz.ID, UserID: u.ID, Grade: float64(i % 11), MaxGrade: 10, At: now}); err != nil {
			t.Fatal(err)
		}
	}
	oe := course.Enrolment{CourseID: other.ID, UserID: people[1].ID, Role: course.RoleStudent, Status: course.StatusActive, Method: course.MethodManual,
		CreatedAt: now, UpdatedAt: now}
	if err := s.CreateEnrolment(ctx, &oe); err != nil {
		t.Fatal(err)
	}

	// Pages of 7 put together are the whole list, in one order, each row once.
	walkEnrolments := func(f course.EnrolmentFilter) ([]int64, int) {
		t.Helper()
		var ids []int64
		total := -1
		for off := 0; ; off += 7 {
			f.Offset, f.Limit = off, 7
			es, n, err := s.EnrolmentsPage(ctx, c.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			if total >= 0 && n != total {
				t.Fatalf("the count changed between pages: %d then %d", total, n)
			}
			total = n
			for _, e := range es {
				if e.CourseID != c.ID {
					t.Fatalf("another course's enrolment %+v", e)
				}
				ids = append(ids, e.ID)
			}
			if len(es) < 7 {
				return ids, total
			}
		}
	}
	all, total := walkEnrolments(course.EnrolmentFilter{})
	if total != n+4 || len(all) != n+4 || unique(all) != n+4 {
		t.Fatalf("all enrolments: %d shown of %d (%d unique), want %d", len(all), total, unique(all), n+4)
	}
	full, err := s.ListEnrolments(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range full {
		if full[i].ID != all[i] {
			t.Fatalf("paged order differs from the full list at %d", i)
		}
	}
	for _, tt := range []struct {
		name string
		f    course.EnrolmentFilter
		want int
	}{
		{"teachers", course.EnrolmentFilter{Role: course.RoleTeacher}, 6},
		{"suspended teachers", course.EnrolmentFilter{Role: course.RoleTeacher, Status: course.StatusSuspended}, 3},
		{"lti", course.EnrolmentFilter{Method: course.MethodLTI}, 4},
		{"name in any case (user03 twice)", course.EnrolmentFilter{Query: "aNN 01"}, 4},
		{"email in any case", course.EnrolmentFilter{Query: "u07@mail"}, 1},
		{"username and status", course.EnrolmentFilter{Query: "USER1", Status: course.StatusActive}, 5},
		{"wildcards are literal", course.EnrolmentFilter{Query: "user_1"}, 0},
		{"nothing", course.EnrolmentFilter{Query: "zzz"}, 0},
	} {
		ids, got := walkEnrolments(tt.f)
		if got != tt.want || len(ids) != tt.want {
			t.Errorf("%s: %d shown, count %d, want %d", tt.name, len(ids), got, tt.want)
		}
	}
	if es, cnt, err := s.EnrolmentsPage(ctx, c.ID, course.EnrolmentFilter{Offset: 500, Limit: 7}); err != nil || len(es) != 0 || cnt != n+4 {
		t.Fatalf("past the end: %v %d of %d", err, len(es), cnt)
	}

	// Bulk: one change to several enrolments, those of another course untouched.
	changed, err := s.BulkUpdateEnrolments(ctx, c.ID, []int64{enrolments[1].ID, enrolments[3].ID, oe.ID},
		course.BulkChange{Action: course.BulkSuspend, At: now.Add(time.Hour)})
	if err != nil || len(changed) != 2 {
		t.Fatalf("bulk suspend: %v, %d changed", err, len(changed))
	}
	if got, _ := s.EnrolmentByID(ctx, enrolments[3].ID); got.Status != course.StatusSuspended || !got.UpdatedAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("after bulk suspend: %+v", got)
	}
	if got, _ := s.EnrolmentByID(ctx, oe.ID); got.Status != course.StatusActive {
		t.Fatal("bulk suspend reached another course")
	}
	if _, err := s.BulkUpdateEnrolments(ctx, c.ID, []int64{enrolments[1].ID}, course.BulkChange{Action: course.BulkRole, Role: course.RoleTeacher, At: now}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.EnrolmentByID(ctx, enrolments[1].ID); got.Role != course.RoleTeacher || got.Status != course.StatusSuspended {
		t.Fatalf("after bulk role: %+v", got)
	}
	if _, err := s.BulkUpdateEnrolments(ctx, c.ID, []int64{enrolments[1].ID, enrolments[3].ID}, course.BulkChange{Action: course.BulkReactivate, At: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BulkUpdateEnrolments(ctx, c.ID, []int64{enrolments[29].ID, oe.ID}, course.BulkChange{Action: course.BulkUnenrol, At: now}); err != nil {
		t.Fatal(err)
	}
	if _, cnt, _ := s.EnrolmentsPage(ctx, c.ID, course.EnrolmentFilter{}); cnt != 30+4-1 {
		t.Fatalf("after bulk unenrol: %d enrolments", cnt)
	}
	if _, cnt, _ := s.EnrolmentsPage(ctx, other.ID, course.EnrolmentFilter{}); cnt != 1 {
		t.Fatal("bulk unenrol reached another course")
	}
	if _, err := s.BulkUpdateEnrolments(ctx, c.ID, []int64{enrolments[2].ID}, course.BulkChange{Action: "explode"}); err == nil {
		t.Fatal("an unknown bulk action was accepted")
	}

	// Students: each person once (user00…user03 hold two enrolments), by display name then user id.
	var students []course.Enrolment
	for off := 0; ; off += 4 {
		page, cnt, err := s.StudentsPage(ctx, c.ID, course.StudentFilter{Offset: off, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		if cnt != 24 { // 30, less the five teachers without a student enrolment (user05…user25), less user29 (unenrolled)
			t.Fatalf("students counted: %d", cnt)
		}
		students = append(students, page...)
		if len(page) < 4 {
			break
		}
	}
	var streamed []course.Enrolment
	if err := s.EachStudent(ctx, c.ID, 5, func(b []course.Enrolment) error {
		if len(b) > 5 {
			t.Fatalf("a batch of %d", len(b))
		}
		streamed = append(streamed, b...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(students) != 24 || len(streamed) != 24 {
		t.Fatalf("students: %d paged, %d streamed", len(students), len(streamed))
	}
	for i := range students {
		if students[i].UserID != streamed[i].UserID {
			t.Fatalf("paged and streamed orders differ at %d", i)
		}
		if i > 0 && (students[i-1].DisplayName() > students[i].DisplayName() ||
			students[i-1].DisplayName() == students[i].DisplayName() && students[i-1].UserID >= students[i].UserID) {
			t.Fatalf("students out of order at %d: %+v then %+v", i, students[i-1], students[i])
		}
	}
	if found, cnt, _ := s.StudentsPage(ctx, c.ID, course.StudentFilter{Query: "ANN 02", Limit: 10}); cnt != 3 || len(found) != 3 || found[0].Email == "" {
		t.Fatalf("student search: %d %+v", cnt, found)
	}
	grades, err := s.GradesOfUsers(ctx, c.ID, []int64{people[4].ID, people[7].ID, oe.UserID})
	if err != nil || len(grades) != 3 {
		t.Fatalf("GradesOfUsers: %v %d", err, len(grades))
	}
	if none, err := s.GradesOfUsers(ctx, other.ID, []int64{people[4].ID}); err != nil || len(none) != 0 {
		t.Fatalf("grades of another course: %v %v", err, none)
	}

	testLaunchLogPage(t, s, now)
	testRunsPage(t, s, now)
	testResourcesAndRegistrationsPages(t, s, c.ID, now)
}

func unique(ids []int64) int {
	seen := map[int64]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	return len(seen)
}

func testLaunchLogPage(t *testing.T, s Stores, now time.Time) {
	ctx := context.Background()
	reg := tool.Registration{Name: "Moodle", Issuer: "https://moodle.example", ClientID: "c1"}
	if err := s.CreateRegistration(ctx, &reg); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range 40 {
		e := launch.LogEntry{At: now.Add(time.Duration(i) * time.Hour), Stage: launch.StageLaunch, Outcome: launch.Accepted, Issuer: reg.Issuer,
			Subject: fmt.Sprintf("s%d", i%4)}
		if i%2 == 0 {
			e.RegistrationID = reg.ID
		}
		if i%3 == 0 {
			e.Outcome, e.Code = launch.Refused, "bad_signature"
		}
		if err := s.RecordLaunch(ctx, &e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	u := account.User{Username: "linked", Auth: account.AuthLTI, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LinkLTIUser(ctx, publish.LTIUser{Issuer: reg.Issuer, Subject: "s1", RegistrationID: reg.ID, UserID: u.ID, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		f     launch.LogFilter
		match func(i int) bool
	}{
		{"all", launch.LogFilter{}, func(int) bool { return true }},
		{"registration", launch.LogFilter{RegistrationID: reg.ID}, func(i int) bool { return i%2 == 0 }},
		{"refused with a code", launch.LogFilter{Outcome: launch.Refused, Code: "bad_signature"}, func(i int) bool { return i%3 == 0 }},
		{"subject", launch.LogFilter{User: "s2"}, func(i int) bool { return i%4 == 2 }},
		{"username", launch.LogFilter{User: "linked"}, func(i int) bool { return i%4 == 1 }},
		{"time range", launch.LogFilter{From: now.Add(10 * time.Hour), To: now.Add(20 * time.Hour)}, func(i int) bool { return i >= 10 && i < 20 }},
		{"everything", launch.LogFilter{RegistrationID: reg.ID, Outcome: launch.Accepted, From: now.Add(5 * time.Hour)},
			func(i int) bool { return i%2 == 0 && i%3 != 0 && i >= 5 }},
	} {
		var want []int64
		for i := len(ids) - 1; i >= 0; i-- {
			if tt.match(i) {
				want = append(want, ids[i])
			}
		}
		var got []int64
		for off := 0; off < 100; off += 6 {
			f := tt.f
			f.Offset, f.Limit = off, 6
			page, cnt, err := s.LaunchLogPage(ctx, f)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if cnt != len(want) {
				t.Fatalf("%s: counted %d, want %d", tt.name, cnt, len(want))
			}
			for _, e := range page {
				got = append(got, e.ID)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", tt.name, got, want)
		}
	}
	if codes, err := s.LaunchCodes(ctx); err != nil || fmt.Sprint(codes) != "[bad_signature]" {
		t.Fatalf("LaunchCodes: %v %v", codes, err)
	}
}

func testRunsPage(t *testing.T, s Stores, now time.Time) {
	ctx := context.Background()
	var ids []int64
	for i := range 25 {
		r := jobs.Run{Kind: jobs.KindGrades, Cause: jobs.CausePeriodic, Status: jobs.StatusRunning, StartedAt: now.Add(time.Duration(i) * time.Minute)}
		if i%2 == 1 {
			r.Kind, r.Cause = jobs.KindMembers, jobs.CauseManual
		}
		if err := s.StartRun(ctx, &r); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			r.Status = jobs.StatusFailed
			if err := s.FinishRun(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, r.ID)
	}
	page, cnt, err := s.RunsPage(ctx, jobs.RunFilter{Kind: jobs.KindMembers, Status: jobs.StatusFailed, Cause: jobs.CauseManual, Offset: 1, Limit: 2})
	if err != nil || cnt != 4 || len(page) != 2 || page[0].ID != ids[15] || page[1].ID != ids[9] { // 21, 15, 9, 3
		t.Fatalf("RunsPage: %v %d %+v", err, cnt, page)
	}
}

func testResourcesAndRegistrationsPages(t *testing.T, s Stores, courseID int64, now time.Time) {
	ctx := context.Background()
	var ids []int64
	for i := range 12 {
		r := publish.Resource{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), CourseID: courseID, Name: fmt.Sprintf("Unit %d", i/2),
			Enabled: i%3 != 0, StudentMode: publish.ModeAuto, TeacherMode: publish.ModeAuto, LearnerRole: course.RoleStudent,
			InstructorRole: course.RoleTeacher, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateResource(ctx, &r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	page, cnt, err := s.ResourcesPage(ctx, courseID, publish.ResourceFilter{Query: "UNIT", Enabled: "yes", Offset: 2, Limit: 3})
	if err != nil || cnt != 8 || len(page) != 3 || page[0].ID != ids[4] || page[1].ID != ids[5] || page[2].ID != ids[7] {
		t.Fatalf("ResourcesPage: %v %d %+v", err, cnt, page)
	}
	for i := range 6 {
		r := tool.Registration{Name: fmt.Sprintf("Platform %d", i%2), Issuer: fmt.Sprintf("https://p%d.example", i), ClientID: "x"}
		if i < 2 {
			r.JWKSURL, r.AuthURL = r.Issuer+"/jwks", r.Issuer+"/auth"
		}
		if err := s.CreateRegistration(ctx, &r); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := s.AddDeployment(ctx, &tool.Deployment{RegistrationID: r.ID, DeploymentID: "d"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	active, cnt, err := s.RegistrationsPage(ctx, tool.RegistrationFilter{Status: "Active", Limit: 10})
	if err != nil || cnt != 1 || len(active) != 1 || len(active[0].Deployments) != 1 || !active[0].Active() {
		t.Fatalf("active registrations: %v %d %+v", err, cnt, active)
	}
	// The launch log's "Moodle" registration and five of these are pending; "P1.EXAMPLE" finds one by issuer.
	if pending, cnt, err := s.RegistrationsPage(ctx, tool.RegistrationFilter{Status: "Pending", Query: "platform", Limit: 2, Offset: 4}); err != nil ||
		cnt != 5 || len(pending) != 1 || pending[0].Name != "Platform 1" {
		t.Fatalf("pending registrations: %v %d %+v", err, cnt, pending)
	}
	if found, cnt, err := s.RegistrationsPage(ctx, tool.RegistrationFilter{Query: "P1.EXAMPLE", Limit: 5}); err != nil || cnt != 1 || found[0].Issuer != "https://p1.example" {
		t.Fatalf("registration search: %v %d", err, cnt)
	}
}
