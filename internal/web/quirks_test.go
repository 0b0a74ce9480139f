package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestQuirkProfiles runs ltipub against the reference platform behaving like each platform ltipub meets (see
// ltitest.Profiles: role forms, deployment ID forms, service URL queries, Link header forms, token audiences,
// 409 on stale scores, scores counted only when FullyGraded, unexpanded custom variables): a learner and a teacher
// launch, the teacher selects the activity by content selection with a gradebook column and a student opens the new
// link, the grade reaches the platform (twice: the second run must not fail on a stale score), dynamic
// registration (where the platform has it) gives a working registration, and a roster sync creates the new member.
func TestQuirkProfiles(t *testing.T) {
	t.Parallel()
	for _, prof := range ltitest.Profiles() {
		t.Run(prof.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var cfg ltitest.Config
			prof.Configure(&cfg)
			cfg.NRPSMaxPage = 2 // the roster of three comes in pages, so that the profile's Link form matters
			p := ltitest.NewServer(t, cfg)
			inst := apptest.Start(t, apptest.Options{})
			reg := inst.Platform(t, p, "client-"+prof.Name, prof.DeploymentID)
			if cfg.TokenAudience != "" {
				// What the admin types into Token audience, from the platform's registration page.
				if _, err := inst.App.Platforms.SetPlatformDetails(ctx, reg.ID, tool.PlatformDetails{Issuer: reg.Issuer, ClientID: reg.ClientID,
					JWKSURL: reg.JWKSURL, TokenURL: reg.TokenURL, AuthURL: reg.AuthURL, TokenAudience: cfg.TokenAudience}); err != nil {
					t.Fatal(err)
				}
			}
			imported := inst.ExampleCourse(t, "")
			assignment := apptest.Activity(imported, course.TypeAssignment)
			in := publish.NewInput(imported.Course.ID)
			in.ActivityID, in.GradeSync, in.MemberSync = assignment.ID, true, true
			in.TeacherMode = publish.ModeAuto // both roles land at once: the role forms are what is tested
			res := inst.Publish(t, in)
			w := &world{inst: inst, p: p, course: imported.Course}

			launchAs := func(sub string, roles []string) {
				t.Helper()
				s := spec(sub, false, res)
				s.Roles, s.DeploymentID, s.ClientID = roles, prof.DeploymentID, "client-"+prof.Name
				for k, v := range prof.Custom {
					s.Custom[k] = v
				}
				if r := w.browser(t).launch(s); r.StatusCode != http.StatusOK {
					t.Fatalf("%s launch: %d %s", sub, r.StatusCode, r.Body)
				}
			}
			launchAs("q-student", prof.LearnerRoles)
			launchAs("q-teacher", prof.InstructorRoles)
			student, ok := w.linkedUser(t, "q-student")
			teacher, ok2 := w.linkedUser(t, "q-teacher")
			if !ok || !ok2 {
				t.Fatalf("launches linked no accounts (%v %v)", ok, ok2)
			}
			if e, _ := w.enrolment(t, teacher.ID); e.Role != course.RoleTeacher {
				t.Errorf("the teacher is enrolled as %q", e.Role)
			}
			if e, _ := w.enrolment(t, student.ID); e.Role != course.RoleStudent {
				t.Errorf("the student is enrolled as %q", e.Role)
			}

			// Content selection by the teacher, with a gradebook column; a student's launch of the new link.
			b := w.browser(t)
			dl := dlSpec("q-teacher", &ltitest.DeepLinking{})
			dl.Roles, dl.DeploymentID, dl.ClientID = prof.InstructorRoles, prof.DeploymentID, "client-"+prof.Name
			if page := b.launch(dl); !strings.Contains(page.Body, `name="resource"`) {
				t.Fatalf("selection page: %d %s", page.StatusCode, page.Body)
			}
			resp := b.post("/launch/select", url.Values{"action": {"add"}, "resource": {fmt.Sprint(res.ID)}, "gradebook_" + fmt.Sprint(res.ID): {"on"}})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("selection answer: %d %s", resp.StatusCode, resp.Body)
			}
			b.postReturn(resp.Body)
			returns := p.DeepLinkReturns()
			if len(returns) != 1 || returns[0].Err != "" || len(returns[0].Links) != 1 || returns[0].Links[0].LineItemURL == "" {
				t.Fatalf("content selection at the platform: %+v", returns)
			}
			s, err := p.LaunchSpecForLink(returns[0].Links[0].ID, &ltitest.User{Sub: "q-student", Name: "Person q-student"}, prof.LearnerRoles[0])
			if err != nil {
				t.Fatal(err)
			}
			s.Roles = prof.LearnerRoles
			if r := w.browser(t).launch(s); r.StatusCode != http.StatusOK {
				t.Fatalf("launch of the selected link: %d %s", r.StatusCode, r.Body)
			}

			if _, err := inst.App.Courses.SubmitAssignment(ctx, &student, assignment.ID, "my report"); err != nil {
				t.Fatal(err)
			}
			if _, err := inst.App.Courses.GradeSubmission(ctx, &inst.Admin, assignment.ID, student.ID, 7, "good"); err != nil {
				t.Fatal(err)
			}
			run, err := inst.App.Jobs.SyncGrades(ctx, jobs.CauseManual, res.ID, 0)
			if err != nil || run.Sent < 1 || run.Failed != 0 {
				t.Fatalf("grade sync: %+v %v", run, err)
			}
			var given *float64
			for _, li := range p.LineItems("platform-course-1") {
				for _, sc := range p.Scores(li.ID) {
					if sc.UserID == "q-student" && !sc.Ignored {
						given = sc.ScoreGiven
					}
				}
			}
			if given == nil || *given <= 0 {
				t.Fatalf("the platform holds no score for the student (given %v)", given)
			}
			if again, err := inst.App.Jobs.SyncGrades(ctx, jobs.CauseManual, res.ID, 0); err != nil || again.Failed != 0 {
				t.Fatalf("second grade sync: %+v %v", again, err)
			}

			if prof.Dynamic {
				// Dynamic registration: the registration URL from the admin page, the platform's side as it
				// would run it; then a launch through the new registration.
				id, regURL := createPlatform(t, inst, adminClient(t, inst), "Dynamic "+prof.Name)
				start, err := p.StartRegistration(regURL)
				if err != nil {
					t.Fatal(err)
				}
				if r := inst.Get(t, inst.Client(t), strings.TrimPrefix(start, inst.URL)); r.StatusCode != http.StatusOK {
					t.Fatalf("dynamic registration: %d %s", r.StatusCode, r.Body)
				}
				dyn, err := inst.App.Platforms.Get(ctx, id)
				recs := p.Registrations()
				if err != nil || !dyn.Active() || len(recs) != 1 || dyn.TokenAudience != cfg.TokenAudience ||
					dyn.ProductFamily != cfg.ProductFamilyCode {
					t.Fatalf("dynamically registered: %+v %v (platform saw %+v)", dyn, err, recs)
				}
				s := spec("q-dynamic", false, res)
				s.Roles, s.ClientID, s.DeploymentID = prof.LearnerRoles, recs[0].ClientID, recs[0].DeploymentID
				if r := w.browser(t).launch(s); r.StatusCode != http.StatusOK {
					t.Fatalf("launch through the dynamic registration: %d %s", r.StatusCode, r.Body)
				}
			}

			p.SetMembers("platform-course-1", []ltitest.Member{
				{UserID: "q-student", Roles: prof.LearnerRoles}, {UserID: "q-teacher", Roles: prof.InstructorRoles},
				{UserID: "q-new", Name: "New Member", Email: "new@school.example", Roles: prof.LearnerRoles},
			})
			members, err := inst.App.Jobs.SyncMembers(ctx, jobs.CauseManual, res.ID, 0)
			if err != nil || members.Created != 1 || members.Failed != 0 {
				t.Fatalf("member sync: %+v %v", members, err)
			}
		})
	}
}
