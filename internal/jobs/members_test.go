package jobs_test

import (
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// enrolled maps the platform subjects (or usernames for local accounts) enrolled in the course to how. The admin
// who made the course is enrolled as its teacher.
func (e *env) enrolled() map[string]course.Enrolment {
	e.t.Helper()
	es, err := e.inst.Store.ListEnrolments(e.ctx, e.course.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]course.Enrolment{}
	for _, en := range es {
		name := en.Username
		var sub string
		if err := e.inst.Store.DB().QueryRowContext(e.ctx, rebind(e, `SELECT subject FROM lti_users WHERE user_id = $1`), en.UserID).Scan(&sub); err == nil {
			name = sub
		}
		out[name] = en
	}
	return out
}

func rebind(e *env, q string) string {
	if e.inst.Store.Engine() == "sqlite" {
		return strings.ReplaceAll(q, "$1", "?1")
	}
	return q
}

func (e *env) setResource(r *publish.Resource, mode publish.SyncMode, on bool) {
	e.t.Helper()
	r.MemberSync, r.MemberSyncMode = on, mode
	if err := e.inst.Store.UpdateResource(e.ctx, *r); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) syncMembers(resourceID int64) jobs.Run {
	e.t.Helper()
	run, err := e.svc.SyncMembers(e.ctx, jobs.CauseManual, resourceID, 0)
	if err != nil {
		e.t.Fatalf("member sync: %v (run %+v)", err, run)
	}
	return run
}

func roster(members ...ltitest.Member) []ltitest.Member { return members }

func learner(sub, name string) ltitest.Member {
	return ltitest.Member{UserID: sub, Name: name, Email: sub + "@example.test", Roles: []string{ltitest.RoleLearner}}
}

func TestMemberSyncEnrolAndUnenrol(t *testing.T) {
	t.Parallel()
	// Pages of two members: the roster below takes four pages. No safety valve here: 3 of 5 leave at once
	// (TestMemberSyncSafetyValve has it).
	e := newEnv(t, envOpts{jobs: func(c *jobs.Config) { c.MemberPageSize = 2; c.MaxUnenrolShare = 1 }})
	e.link(e.whole, "rl-1", "ctx-1", "", false)
	// A manual enrolment, and one made by another resource, which member sync must leave alone.
	local := e.inst.EnsureUser(t, account.NewUser{Username: "local", Password: "a long password 1", FullName: "Local"})
	if _, err := e.inst.App.Courses.Enrol(e.ctx, &e.admin, e.course.ID, course.EnrolInput{Username: "local", Role: course.RoleStudent, Status: course.StatusActive}); err != nil {
		t.Fatal(err)
	}
	other := e.student("sub-other", e.activity, e.link(e.activity, "rl-x", "ctx-x", "", false))
	_ = local
	_ = other
	e.p.SetMembers("ctx-1", roster(
		ltitest.Member{UserID: "sub-t", Name: "Teacher T", Roles: []string{ltitest.RoleInstructor}},
		learner("sub-1", "Ada One"), learner("sub-2", "Bob Two"), learner("sub-3", "Cy Three"),
		ltitest.Member{UserID: "sub-4", Status: "Inactive", Roles: []string{ltitest.RoleLearner}},
		ltitest.Member{UserID: "sub-5", Status: "Deleted", Roles: []string{ltitest.RoleLearner}},
		learner("sub-6", "Di Six"),
	))
	run := e.syncMembers(e.whole.ID)
	if run.Created != 5 || run.Enrolled != 5 || run.Unenrolled != 0 || run.Links != 1 || run.Status != "ok" {
		t.Fatalf("first run %+v", run)
	}
	got := e.enrolled()
	for _, sub := range []string{"sub-t", "sub-1", "sub-2", "sub-3", "sub-6"} {
		en, ok := got[sub]
		if !ok || en.Method != course.MethodLTI || en.PublishedResourceID != e.whole.ID {
			t.Fatalf("%s: %+v (all: %v)", sub, en, got)
		}
	}
	if got["sub-t"].Role != course.RoleTeacher || got["sub-1"].Role != course.RoleStudent {
		t.Fatalf("roles: %+v %+v", got["sub-t"], got["sub-1"])
	}
	if _, ok := got["sub-4"]; ok {
		t.Fatal("an Inactive member was enrolled")
	}
	if _, ok := got["sub-5"]; ok {
		t.Fatal("a Deleted member was enrolled")
	}
	u1, _ := e.inst.Store.UserByID(e.ctx, got["sub-1"].UserID)
	if u1.FullName != "Ada One" || u1.Email != "sub-1@example.test" || u1.Auth != account.AuthLTI {
		t.Fatalf("account %+v", u1)
	}

	// Bob leaves, Cy becomes Inactive, Di is Deleted, Ada changes her name: three unenrolments, one update.
	e.p.SetMembers("ctx-1", roster(
		ltitest.Member{UserID: "sub-t", Name: "Teacher T", Roles: []string{ltitest.RoleInstructor}},
		learner("sub-1", "Ada Lovelace"),
		ltitest.Member{UserID: "sub-3", Status: "Inactive", Roles: []string{ltitest.RoleLearner}},
		ltitest.Member{UserID: "sub-6", Status: "Deleted", Roles: []string{ltitest.RoleLearner}},
		learner("sub-7", "Eve Seven"),
	))
	run = e.syncMembers(e.whole.ID)
	if run.Created != 1 || run.Enrolled != 1 || run.Unenrolled != 3 || run.Updated != 1 {
		t.Fatalf("second run %+v", run)
	}
	got = e.enrolled()
	for _, gone := range []string{"sub-2", "sub-3", "sub-6"} {
		if _, ok := got[gone]; ok {
			t.Fatalf("%s still enrolled", gone)
		}
	}
	for _, stays := range []string{"sub-t", "sub-1", "sub-7", "local", "sub-other"} {
		if _, ok := got[stays]; !ok {
			t.Fatalf("%s lost its enrolment: %v", stays, got)
		}
	}
	if u1, _ := e.inst.Store.UserByID(e.ctx, got["sub-1"].UserID); u1.FullName != "Ada Lovelace" {
		t.Fatalf("name not updated: %+v", u1)
	}
	// Nothing changed: nothing happens.
	if run := e.syncMembers(e.whole.ID); run.Created+run.Enrolled+run.Unenrolled+run.Updated != 0 {
		t.Fatalf("idle run %+v", run)
	}

	// A listing that fails part-way never unenrols: the roster now loops.
	e.p.SetMembers("ctx-1", roster(learner("sub-1", "Ada Lovelace")))
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceNRPS, Kind: ltitest.FaultPagingLoop, Count: -1})
	run, err := e.svc.SyncMembers(e.ctx, jobs.CauseManual, e.whole.ID, 0)
	if err == nil || run.Unenrolled != 0 || run.Status != "failed" || !strings.Contains(run.Error, "loops") {
		t.Fatalf("paging loop: %v, %+v", err, run)
	}
	e.p.ClearFaults()
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceNRPS, Kind: ltitest.FaultGarbageJSON, Count: -1})
	if run, err := e.svc.SyncMembers(e.ctx, jobs.CauseManual, e.whole.ID, 0); err == nil || run.Unenrolled != 0 {
		t.Fatalf("garbage: %v, %+v", err, run)
	}
	e.p.ClearFaults()
	small := e.newService(func(c *jobs.Config) { c.MaxPageBytes = 64 })
	if run, err := small.SyncMembers(e.ctx, jobs.CauseManual, e.whole.ID, 0); err == nil || run.Unenrolled != 0 || !strings.Contains(run.Error, "too large") {
		t.Fatalf("huge page: %v, %+v", err, run)
	}
	if n := len(e.enrolled()); n != 6 {
		t.Fatalf("failed listings changed enrolments: %v", e.enrolled())
	}

	// Member sync off: nothing happens at sync time.
	e.setResource(&e.whole, publish.SyncEnrolAndUnenrol, false)
	if run := e.syncMembers(0); run.Links != 0 || len(e.enrolled()) != 6 {
		t.Fatalf("sync off: %+v", run)
	}
}

func TestMemberSyncModes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{jobs: func(c *jobs.Config) { c.MemberPageSize = 1; c.MaxUnenrolShare = 1 }})
	l := e.link(e.whole, "rl-1", "ctx-1", "", false)
	// Enrol only: new members come in, leavers stay.
	e.setResource(&e.whole, publish.SyncEnrolOnly, true)
	e.p.SetMembers("ctx-1", roster(learner("sub-1", "A"), learner("sub-2", "B")))
	if run := e.syncMembers(0); run.Enrolled != 2 {
		t.Fatalf("enrol only: %+v", run)
	}
	e.p.SetMembers("ctx-1", roster(learner("sub-1", "A"), learner("sub-3", "C")))
	if run := e.syncMembers(0); run.Enrolled != 1 || run.Unenrolled != 0 || len(e.enrolled()) != 4 {
		t.Fatalf("enrol only, second: %+v %v", run, e.enrolled())
	}
	// Unenrol only: nobody new, leavers go (sub-9 launched earlier and is gone).
	e.setResource(&e.whole, publish.SyncUnenrolOnly, true)
	e.student("sub-9", e.whole, l)
	e.p.SetMembers("ctx-1", roster(learner("sub-1", "A"), learner("sub-3", "C"), learner("sub-new", "N")))
	run := e.syncMembers(0)
	got := e.enrolled()
	if run.Created != 0 || run.Enrolled != 0 || run.Unenrolled != 2 || len(got) != 3 {
		t.Fatalf("unenrol only: %+v %v", run, got)
	}
	if _, ok := got["sub-new"]; ok {
		t.Fatal("unenrol only enrolled someone")
	}
	// Prompting provisioning: unlinked members wait for their first launch.
	e.setResource(&e.whole, publish.SyncEnrolAndUnenrol, true)
	e.whole.StudentMode = publish.ModePrompt
	if err := e.inst.Store.UpdateResource(e.ctx, e.whole); err != nil {
		t.Fatal(err)
	}
	if run := e.syncMembers(0); run.Skipped != 1 || run.Created != 0 {
		t.Fatalf("prompt mode: %+v", run)
	}
}
