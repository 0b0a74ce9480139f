package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/ltitest"
)

var agsScopes = []string{lti.ScopeLineItem, lti.ScopeScore, lti.ScopeResultReadOnly}

// env is an ltipub instance, the reference platform registered on it, and a published course with one
// assignment.
type env struct {
	t        testing.TB
	ctx      context.Context
	inst     *apptest.Instance
	p        *ltitest.Platform
	reg      tool.Registration
	admin    account.User
	course   course.Course
	act      course.Activity
	activity publish.Resource // the assignment published on its own
	whole    publish.Resource // the whole course published
	svc      *jobs.Service
}

type envOpts struct {
	engine    sqlstore.Engine
	dsn       string
	startJobs bool
	configure func(*config.Config)
	platform  ltitest.Config
	jobs      func(*jobs.Config)
}

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	ctx := context.Background()
	inst := apptest.Start(t, apptest.Options{Engine: o.engine, DSN: o.dsn, Jobs: o.startJobs, Configure: func(c *config.Config) {
		c.JobPollInterval = 100 * time.Millisecond
		if o.configure != nil {
			o.configure(c)
		}
	}})
	e := &env{t: t, ctx: ctx, inst: inst, admin: inst.Admin}
	e.p = ltitest.NewServer(t, o.platform)
	e.reg = inst.Platform(t, e.p, "client-1")
	a := inst.App
	var err error
	if e.course, err = a.Courses.CreateCourse(ctx, &e.admin, course.CourseInput{FullName: "Physics", ShortName: fmt.Sprintf("phys-%d", time.Now().UnixNano()), Visible: true}); err != nil {
		t.Fatal(err)
	}
	if e.act, err = a.Courses.CreateActivity(ctx, &e.admin, e.course.ID, course.ActivityInput{Type: course.TypeAssignment, Name: "Essay", Visible: true, MaxGrade: 20}); err != nil {
		t.Fatal(err)
	}
	in := publish.NewInput(e.course.ID)
	in.ActivityID, in.Name = e.act.ID, "Essay"
	if e.activity, err = a.Publish.Publish(ctx, &e.admin, in); err != nil {
		t.Fatal(err)
	}
	in = publish.NewInput(e.course.ID)
	in.Name, in.MemberSync, in.TeacherMode = "Physics", true, publish.ModeAuto
	if e.whole, err = a.Publish.Publish(ctx, &e.admin, in); err != nil {
		t.Fatal(err)
	}
	e.svc = e.newService(o.jobs)
	return e
}

// newService builds a sync service on the instance's store with test-friendly settings (short waits), without
// starting the queue: tests call SyncGrades and SyncMembers directly.
func (e *env) newService(change func(*jobs.Config)) *jobs.Service {
	a := e.inst.App
	cfg := jobs.Config{Store: a.Store, Publish: a.Store, Provision: a.Publish, Courses: a.Store, Registrations: a.Store,
		Keys: a.Keys, HTTP: &http.Client{Timeout: 2 * time.Second}, Engine: string(a.Store.Engine()), DSN: a.Store.DSN(),
		GradeInterval: -1, MemberInterval: -1, RetryWait: 3 * time.Second}
	if change != nil {
		change(&cfg)
	}
	s, err := jobs.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(s.Close)
	return s
}

// link records a resource link of res in context ctxID, as a launch would.
func (e *env) link(res publish.Resource, linkID, ctxID, lineItem string, withContainer bool) publish.ResourceLink {
	e.t.Helper()
	l := publish.ResourceLink{RegistrationID: e.reg.ID, DeploymentID: "deployment-1", LinkID: linkID, PublishedResourceID: res.ID,
		ContextID: ctxID, ContextTitle: "Course " + ctxID, LineItemURL: lineItem, AGSScopes: agsScopes,
		MembershipsURL: e.p.BaseURL() + "/nrps/" + ctxID + "/memberships", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if withContainer {
		l.LineItemsURL = e.p.BaseURL() + "/ags/" + ctxID + "/lineitems"
	}
	if err := e.inst.Store.SaveResourceLink(e.ctx, &l); err != nil {
		e.t.Fatal(err)
	}
	return l
}

// student makes an LTI account for platform user sub, enrolled in the course by res and linked to l, as after a
// launch.
func (e *env) student(sub string, res publish.Resource, l publish.ResourceLink) account.User {
	e.t.Helper()
	st := e.inst.Store
	u, err := e.inst.App.Accounts.Create(e.ctx, account.NewUser{Username: "u_" + sub, FullName: "Student " + sub, Auth: account.AuthLTI})
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now()
	lu, err := st.LinkLTIUser(e.ctx, publish.LTIUser{Issuer: e.p.Issuer(), Subject: sub, RegistrationID: e.reg.ID, UserID: u.ID, CreatedAt: now, LastLaunchAt: now})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := st.LinkUserToResourceLink(e.ctx, lu.ID, l.ID, now); err != nil {
		e.t.Fatal(err)
	}
	en := course.Enrolment{CourseID: e.course.ID, UserID: u.ID, Role: course.RoleStudent, Status: course.StatusActive,
		Method: course.MethodLTI, PublishedResourceID: res.ID, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateEnrolment(e.ctx, &en); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) grade(u account.User, act course.Activity, v float64, feedback string) course.Grade {
	e.t.Helper()
	g, err := e.inst.App.Courses.GradeSubmission(e.ctx, &e.admin, act.ID, u.ID, v, feedback)
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

func (e *env) syncGrades(resourceID int64) jobs.Run {
	e.t.Helper()
	run, err := e.svc.SyncGrades(e.ctx, jobs.CauseManual, resourceID, 0)
	if err != nil {
		e.t.Fatalf("grade sync: %v (run %+v)", err, run)
	}
	return run
}

func eventually(t testing.TB, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
