package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/google/uuid"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
	"github.com/ltipub/ltipub/internal/tool"
)

// BenchmarkLaunchStatements issues, through the store's own methods, the database work of one first launch of a
// new person, and nothing else: the login's state row, its claim, the person's lookup, the provisioning
// transaction (account, platform identity, enrolment, resource link, the person's link to it, the launch log row
// with the id_token's claims), the session row; then the landing page's reads (session, account, activity,
// course, enrolment, attempts, grade). No HTTP, no JOSE, no HTML, one goroutine: what the statements themselves
// cost in the driver and the engine, the floor under a launch's CPU (docs/performance.md, sixth pass).
//
//	go test ./internal/store/sqlstore -run '^$' -bench LaunchStatements -benchtime 2000x
//
// cpu_µs/op is the process's CPU per launch (the engine's background work included: on SQLite the WAL
// checkpointer); budget_µs and landing_µs split it between the 12 statements of the budget and the page's 7.
func BenchmarkLaunchStatements(b *testing.B) {
	for _, e := range sqltest.Engines {
		b.Run(string(e), func(b *testing.B) {
			s := sqltest.Open(b, e)
			f := seedLaunch(b, s)
			sessions := sessionStore(b, s)
			ctx := context.Background()
			var budget, landing time.Duration
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := range b.N {
				t0 := cpuTime()
				userID := f.firstLaunch(b, ctx, s, sessions, i)
				t1 := cpuTime()
				f.landingReads(b, ctx, s, sessions, i, userID)
				t2 := cpuTime()
				budget += t1 - t0
				landing += t2 - t1
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu_µs/op")
			b.ReportMetric(float64(budget.Microseconds())/float64(b.N), "budget_µs")
			b.ReportMetric(float64(landing.Microseconds())/float64(b.N), "landing_µs")
		})
	}
}

// launchFixture is what a launch lands on: a registration, a course with a quiz, the quiz published.
type launchFixture struct {
	reg      tool.Registration
	courseID int64
	quiz     course.Activity
	resource publish.Resource
	link     publish.ResourceLink
	claims   map[string]any
}

func seedLaunch(tb testing.TB, s *sqlstore.Store) *launchFixture {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	f := &launchFixture{reg: tool.Registration{Name: "Bench", Issuer: "https://lms.example", ClientID: "client-1"}}
	if err := s.CreateRegistration(ctx, &f.reg); err != nil {
		tb.Fatal(err)
	}
	c := course.Course{FullName: "Astronomy", ShortName: "AST", Visible: true, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateCourse(ctx, &c, nil); err != nil {
		tb.Fatal(err)
	}
	f.courseID = c.ID
	yes := true
	f.quiz = course.Activity{CourseID: c.ID, Type: course.TypeQuiz, Name: "Solar System quiz", MaxGrade: 10, Visible: true,
		Quiz: course.QuizSettings{AttemptsAllowed: 2, Questions: []course.Question{
			{ID: "q1", Type: "multichoice", Text: "Which planet is largest?", Points: 1, Choices: []course.Choice{{Text: "Jupiter", Correct: true}, {Text: "Mars"}}},
			{ID: "q2", Type: "truefalse", Text: "The Sun is a star.", Points: 1, CorrectAnswer: &yes},
			{ID: "q3", Type: "shortanswer", Text: "Closest planet to the Sun?", Points: 1, Answers: []course.Answer{{Text: "Mercury"}}},
		}}}
	if err := s.CreateActivity(ctx, &f.quiz); err != nil {
		tb.Fatal(err)
	}
	f.resource = publish.Resource{UUID: uuid.NewString(), CourseID: c.ID, ActivityID: f.quiz.ID, Name: f.quiz.Name, Enabled: true,
		StudentMode: publish.ModeAuto, TeacherMode: publish.ModeAuto, MemberSyncMode: publish.SyncEnrolAndUnenrol,
		LearnerRole: course.RoleStudent, InstructorRole: course.RoleTeacher, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateResource(ctx, &f.resource); err != nil {
		tb.Fatal(err)
	}
	f.link = publish.ResourceLink{RegistrationID: f.reg.ID, DeploymentID: "deployment-1", LinkID: "resource-link-1",
		PublishedResourceID: f.resource.ID, ContextID: "course-1", ContextTitle: "Astronomy", Title: f.quiz.Name,
		CreatedAt: now, UpdatedAt: now}
	if err := s.SaveResourceLink(ctx, &f.link); err != nil {
		tb.Fatal(err)
	}
	// The claims of a Moodle id_token, about the size the launch inspector keeps for every launch.
	f.claims = map[string]any{
		"iss": f.reg.Issuer, "aud": f.reg.ClientID, "exp": now.Unix() + 60, "iat": now.Unix(), "nonce": uuid.NewString(),
		"sub": "subject", "name": "Learner Name", "given_name": "Learner", "family_name": "Name", "email": "learner@lms.example",
		"https://purl.imsglobal.org/spec/lti/claim/deployment_id":       "deployment-1",
		"https://purl.imsglobal.org/spec/lti/claim/message_type":        "LtiResourceLinkRequest",
		"https://purl.imsglobal.org/spec/lti/claim/version":             "1.3.0",
		"https://purl.imsglobal.org/spec/lti/claim/target_link_uri":     "https://tool.example/lti/launch",
		"https://purl.imsglobal.org/spec/lti/claim/roles":               []string{"http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"},
		"https://purl.imsglobal.org/spec/lti/claim/resource_link":       map[string]any{"id": "resource-link-1", "title": f.quiz.Name},
		"https://purl.imsglobal.org/spec/lti/claim/context":             map[string]any{"id": "course-1", "label": "AST", "title": "Astronomy"},
		"https://purl.imsglobal.org/spec/lti/claim/tool_platform":       map[string]any{"guid": "lms.example", "name": "LMS", "product_family_code": "moodle"},
		"https://purl.imsglobal.org/spec/lti/claim/launch_presentation": map[string]any{"document_target": "iframe", "return_url": "https://lms.example/mod/lti/return.php"},
		"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": map[string]any{"scope": []string{"https://purl.imsglobal.org/spec/lti-ags/scope/lineitem", "https://purl.imsglobal.org/spec/lti-ags/scope/score"},
			"lineitems": "https://lms.example/mod/lti/services.php/2/lineitems?type_id=1", "lineitem": "https://lms.example/mod/lti/services.php/2/lineitems/1/lineitem?type_id=1"},
		"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": map[string]any{"context_memberships_url": "https://lms.example/mod/lti/services.php/CourseSection/2/bindings/1/memberships",
			"service_versions": []string{"1.0", "2.0"}},
	}
	return f
}

// firstLaunch is the budget's 12 statements: the login's, then the id_token post's.
func (f *launchFixture) firstLaunch(tb testing.TB, ctx context.Context, s *sqlstore.Store, sessions sessionStorer, i int) int64 {
	now := time.Now()
	state := uuid.NewString()
	if err := s.SaveState(ctx, launch.State{State: state, Nonce: uuid.NewString(), RegistrationID: f.reg.ID,
		TargetLinkURI: "https://tool.example/lti/launch", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.ClaimState(ctx, state, now); err != nil {
		tb.Fatal(err)
	}
	subject := fmt.Sprintf("subject-%d", i)
	if _, _, _, err := s.LinkedUser(ctx, f.reg.Issuer, subject, f.courseID); !errors.Is(err, store.ErrNotFound) {
		tb.Fatalf("a new person's lookup: %v", err)
	}
	var userID int64
	err := s.Tx(ctx, func(tx *sqlstore.Store) error {
		u := account.User{Username: fmt.Sprintf("lms-%d", i), Email: fmt.Sprintf("learner%d@lms.example", i), FullName: "Learner Name",
			Auth: account.AuthLTI, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		lu, err := tx.LinkLTIUser(ctx, publish.LTIUser{Issuer: f.reg.Issuer, Subject: subject, RegistrationID: f.reg.ID, UserID: u.ID,
			CreatedAt: now, LastLaunchAt: now})
		if err != nil {
			return err
		}
		e := course.Enrolment{CourseID: f.courseID, UserID: u.ID, Role: course.RoleStudent, Status: course.StatusActive,
			Method: course.MethodLTI, PublishedResourceID: f.resource.ID, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateEnrolment(ctx, &e); err != nil {
			return err
		}
		link := f.link
		link.UpdatedAt = now
		if err := tx.SaveResourceLink(ctx, &link); err != nil {
			return err
		}
		if err := tx.LinkUserToResourceLink(ctx, lu.ID, link.ID, now); err != nil {
			return err
		}
		claims := make(map[string]any, len(f.claims))
		for k, v := range f.claims {
			claims[k] = v
		}
		claims["sub"] = subject
		userID = u.ID
		return tx.RecordLaunch(ctx, &launch.LogEntry{At: now, RegistrationID: f.reg.ID, Issuer: f.reg.Issuer, ClientID: f.reg.ClientID,
			DeploymentID: "deployment-1", MessageType: "LtiResourceLinkRequest", Subject: subject, Stage: launch.StageLaunch,
			Outcome: launch.Accepted, Path: "cookie", RequestID: uuid.NewString(),
			Detail: &launch.Detail{Version: "1.3", Header: map[string]any{"alg": "RS256", "kid": "k1", "typ": "JWT"}, Claims: claims}})
	})
	if err != nil {
		tb.Fatal(err)
	}
	// The session scs saves after the post: about what a launched session holds.
	data := []byte(fmt.Sprintf(`{"deadline":%d,"values":{"user_id":%d,"lti_scope":"a%d","lti_embedded":true,"lti_return_url":"https://lms.example/mod/lti/return.php","lti_return_name":"LMS"}}`,
		now.Add(12*time.Hour).UnixNano(), userID, f.quiz.ID))
	if err := sessions.Commit(sessionToken(i), data, now.Add(12*time.Hour)); err != nil {
		tb.Fatal(err)
	}
	return userID
}

// landingReads is the landing page's 7 statements.
func (f *launchFixture) landingReads(tb testing.TB, ctx context.Context, s *sqlstore.Store, sessions sessionStorer, i int, userID int64) {
	if _, found, err := sessions.Find(sessionToken(i)); err != nil || !found {
		tb.Fatalf("session: found %v, %v", found, err)
	}
	ctx = store.WithMemo(ctx)
	if _, err := s.UserByID(ctx, userID); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.ActivityByID(ctx, f.quiz.ID); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.CourseByID(ctx, f.courseID); err != nil {
		tb.Fatal(err)
	}
	if es, err := s.EnrolmentsOf(ctx, f.courseID, userID); err != nil || len(es) != 1 {
		tb.Fatalf("enrolments: %d, %v", len(es), err)
	}
	if at, err := s.Attempts(ctx, f.quiz.ID, userID); err != nil || len(at) != 0 {
		tb.Fatalf("attempts: %d, %v", len(at), err)
	}
	if _, err := s.GradeOf(ctx, f.quiz.ID, userID); !errors.Is(err, store.ErrNotFound) {
		tb.Fatalf("grade of a new person: %v", err)
	}
}

// sessionStorer is the part of scs's store a launch uses.
type sessionStorer interface {
	Commit(token string, b []byte, expiry time.Time) error
	Find(token string) ([]byte, bool, error)
}

// sessionStore is the session store serve gives the engine (internal/app): the store's own on SQLite, scs's
// postgresstore on PostgreSQL.
func sessionStore(tb testing.TB, s *sqlstore.Store) sessionStorer {
	if s.Engine() == sqlstore.Postgres {
		return postgresstore.NewWithCleanupInterval(s.DB(), 0)
	}
	ss, err := sqlstore.NewSessions(s, 0, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return ss
}

func sessionToken(i int) string { return fmt.Sprintf("session-token-%08d-0123456789abcdefghij", i) }

// cpuTime is the process's CPU time (user and system) so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
