package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/lti11"
	"github.com/ltipub/ltipub/lti/lti11/lti11test"
)

// legacyLink records an LTI 1.1 resource link of res, as a launch from consumer c would.
func (e *env) legacyLink(c *lti11test.Consumer, res publish.Resource, linkID string, memberships string) publish.ResourceLink {
	e.t.Helper()
	l := publish.ResourceLink{DeploymentID: lti11.PlatformID(c.Key, c.InstanceGUID), LinkID: linkID, PublishedResourceID: res.ID,
		ContextID: "c-" + linkID, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	ll := publish.LegacyLink{ConsumerKey: c.Key, InstanceGUID: c.InstanceGUID, UpdatedAt: time.Now()}
	if memberships != "" {
		ll.MembershipsURL, ll.MembershipsID = c.MembershipsURL(), memberships
	}
	if err := e.inst.Store.SaveLegacyLink(e.ctx, &l, ll); err != nil {
		e.t.Fatal(err)
	}
	return l
}

// legacyStudent is a 1.1 platform user launched through l, with the sourcedid the platform gave.
func (e *env) legacyStudent(c *lti11test.Consumer, userID string, res publish.Resource, l publish.ResourceLink, sourcedID string) account.User {
	e.t.Helper()
	st := e.inst.Store
	u, err := e.inst.App.Accounts.Create(e.ctx, account.NewUser{Username: "l_" + userID, FullName: "Legacy " + userID, Auth: account.AuthLTI})
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now()
	lu, err := st.LinkLTIUser(e.ctx, publish.LTIUser{Issuer: l.DeploymentID, Subject: userID, UserID: u.ID, CreatedAt: now, LastLaunchAt: now})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := st.LinkUserToResourceLink(e.ctx, lu.ID, l.ID, now); err != nil {
		e.t.Fatal(err)
	}
	if sourcedID != "" {
		if err := st.SaveLegacyOutcome(e.ctx, publish.LegacyOutcome{ResourceLinkID: l.ID, LTIUserID: lu.ID, ServiceURL: c.OutcomeServiceURL(),
			SourcedID: sourcedID}, now); err != nil {
			e.t.Fatal(err)
		}
	}
	en := course.Enrolment{CourseID: e.course.ID, UserID: u.ID, Role: course.RoleStudent, Status: course.StatusActive,
		Method: course.MethodLTI, PublishedResourceID: res.ID, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateEnrolment(e.ctx, &en); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func TestLegacyGradeSync(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	// The service under test reads the legacy tables like the app's does.
	e.svc = e.newService(func(c *jobs.Config) { c.Legacy = e.inst.Store })
	c := lti11test.New(t, "moodle-key", e.activity.LegacySecret)
	l := e.legacyLink(c, e.activity, "rl-essay", "")
	ada := e.legacyStudent(c, "ada", e.activity, l, `{"data":{"instanceid":"3","userid":"7"},"hash":"x"}`)
	bob := e.legacyStudent(c, "bob", e.activity, l, "src-bob")
	nosrc := e.legacyStudent(c, "cy", e.activity, l, "")

	e.grade(ada, e.act, 17, "Good")
	e.grade(bob, e.act, 5, "")
	e.grade(nosrc, e.act, 10, "")
	run := e.syncGrades(e.activity.ID)
	if run.Sent != 2 || run.Failed != 0 || run.Status != jobs.StatusOK {
		t.Fatalf("first run %+v", run)
	}
	if s, _ := c.Score(`{"data":{"instanceid":"3","userid":"7"},"hash":"x"}`); s != "0.85" {
		t.Fatalf("ada's score %q, want 0.85 (17/20, sourcedid verbatim)", s)
	}
	if s, _ := c.Score("src-bob"); s != "0.25" {
		t.Fatalf("bob's score %q", s)
	}
	if len(c.Rejected()) != 0 {
		t.Fatalf("the consumer refused requests: %v", c.Rejected())
	}
	// Only what changed is sent again.
	if run := e.syncGrades(e.activity.ID); run.Sent != 0 {
		t.Fatalf("an unchanged grade was sent again: %+v", run)
	}
	e.grade(bob, e.act, 20, "")
	if run := e.syncGrades(e.activity.ID); run.Sent != 1 {
		t.Fatalf("bob's change: %+v", run)
	}
	if s, _ := c.Score("src-bob"); s != "1.0" {
		t.Fatalf("bob's new score %q", s)
	}

	// The platform refuses (imsx_codeMajor failure): recorded with its description, and sent again next time.
	c.SetOutcomeMode(lti11test.OutcomeFailure, "Tool does not accept grades")
	e.grade(ada, e.act, 10, "")
	run, _ = e.svc.SyncGrades(e.ctx, jobs.CauseManual, e.activity.ID, 0)
	if run.Failed != 1 || !strings.Contains(run.Error, "Tool does not accept grades") || run.Status != jobs.StatusFailed {
		t.Fatalf("failure run %+v", run)
	}
	// Garbage: a retryable failure; nothing is marked.
	c.SetOutcomeMode(lti11test.OutcomeGarbage, "")
	run, err := e.svc.SyncGrades(e.ctx, jobs.CauseManual, e.activity.ID, 0)
	if err == nil || run.Sent != 0 {
		t.Fatalf("garbage run %+v %v", run, err)
	}
	c.SetOutcomeMode(lti11test.OutcomeSuccess, "")
	if run := e.syncGrades(e.activity.ID); run.Sent != 1 {
		t.Fatalf("after recovery: %+v", run)
	}
	if s, _ := c.Score(`{"data":{"instanceid":"3","userid":"7"},"hash":"x"}`); s != "0.5" {
		t.Fatalf("ada's score after recovery %q", s)
	}

	// The course total goes to a link of the whole course, out of 100.
	cl := e.legacyLink(c, e.whole, "rl-course", "")
	c.Secret = e.whole.LegacySecret
	dee := e.legacyStudent(c, "dee", e.whole, cl, "src-dee")
	e.grade(dee, e.act, 15, "")
	if run := e.syncGrades(e.whole.ID); run.Sent != 1 {
		t.Fatalf("course total: %+v", run)
	}
	if s, _ := c.Score("src-dee"); s != "0.75" {
		t.Fatalf("dee's course total %q", s)
	}
}

func TestLegacyMemberSync(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	e.svc = e.newService(func(c *jobs.Config) { c.Legacy = e.inst.Store })
	c := lti11test.New(t, "moodle-key", e.whole.LegacySecret)
	l := e.legacyLink(c, e.whole, "rl-roster", "mem-1")
	c.SetRoster("mem-1", []lti11.Member{
		{UserID: "m1", Roles: "Learner", FullName: "Mia One", Email: "mia@lms.example.com"},
		{UserID: "m2", Roles: "urn:lti:role:ims/lis/Learner", GivenName: "Max", FamilyName: "Two"},
		{UserID: "t1", Roles: "Instructor", FullName: "Tea Cher"},
	})
	run, err := e.svc.SyncMembers(e.ctx, jobs.CauseManual, e.whole.ID, 0)
	if err != nil || run.Created != 3 || run.Enrolled != 3 || run.Links != 1 {
		t.Fatalf("first sync %+v %v (rejected %v)", run, err, c.Rejected())
	}
	role := func(sub string) course.Role {
		lu, err := e.inst.Store.LTIUser(e.ctx, l.DeploymentID, sub)
		if err != nil {
			return ""
		}
		es, _ := e.inst.Store.EnrolmentsOf(e.ctx, e.course.ID, lu.UserID)
		if len(es) == 0 {
			return ""
		}
		return es[0].Role
	}
	if role("m1") != course.RoleStudent || role("t1") != course.RoleTeacher || role("m2") != course.RoleStudent {
		t.Fatalf("roles m1=%q m2=%q t1=%q", role("m1"), role("m2"), role("t1"))
	}
	lu, _ := e.inst.Store.LTIUser(e.ctx, l.DeploymentID, "m2")
	if u, _ := e.inst.Store.UserByID(e.ctx, lu.UserID); u.FullName != "Max Two" {
		t.Errorf("m2's name %q", u.FullName)
	}
	// m2 leaves the roster: unenrolled; the others stay.
	c.SetRoster("mem-1", []lti11.Member{{UserID: "m1", Roles: "Learner", FullName: "Mia One"}, {UserID: "t1", Roles: "Instructor", FullName: "Tea Cher"}})
	run, err = e.svc.SyncMembers(e.ctx, jobs.CauseManual, e.whole.ID, 0)
	if err != nil || run.Unenrolled != 1 || run.Enrolled != 0 || run.Created != 0 {
		t.Fatalf("second sync %+v %v", run, err)
	}
	if role("m2") != "" || role("m1") != course.RoleStudent {
		t.Fatalf("after leaving: m2=%q m1=%q", role("m2"), role("m1"))
	}
	// A roster the platform refuses unenrols nobody.
	c.Secret = "changed-in-the-platform"
	run, err = e.svc.SyncMembers(e.ctx, jobs.CauseManual, e.whole.ID, 0)
	if err == nil || run.Unenrolled != 0 || role("m1") != course.RoleStudent {
		t.Fatalf("refused roster: %+v %v", run, err)
	}
	if c.RosterCalls() < 2 {
		t.Fatalf("roster calls %d", c.RosterCalls())
	}
}
