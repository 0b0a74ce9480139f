package jobs_test

import (
	"testing"

	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestSyncKeepsChartHistory: a grade sync counts what the platform accepted and refused for the Sync page's
// chart, and a member sync records the size of the roster it listed (active members only), from real exchanges
// with the reference platform.
func TestSyncKeepsChartHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{jobs: func(c *jobs.Config) { c.MaxUnenrolShare = 1 }})
	li := e.p.AddLineItem("client-1", "ctx-1", ltitest.LineItem{Label: "Essay", ScoreMaximum: 20, ResourceLinkID: "rl-1"})
	l := e.link(e.activity, "rl-1", "ctx-1", li, true)
	ada, bob := e.student("sub-ada", e.activity, l), e.student("sub-bob", e.activity, l)
	e.grade(ada, e.act, 15, "")
	e.grade(bob, e.act, 8, "")
	// The platform refuses the first score it gets (not an outage: the run goes on with the other).
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceAGS, Kind: ltitest.FaultStatus, Status: 400, Body: `{"error":"user not enrolled"}`})
	if run := e.syncGrades(e.activity.ID); run.Sent != 1 || run.Failed != 1 {
		t.Fatalf("run %+v", run)
	}
	scores, err := e.inst.App.Stats.Scores(e.ctx, 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(scores) != 1 || scores[0].Platform.RegistrationID != e.reg.ID || scores[0].Platform.Label() != e.reg.Name {
		t.Fatalf("platforms %+v", scores)
	}
	sent, failed := 0, 0
	for i := range scores[0].Sent {
		sent, failed = sent+scores[0].Sent[i], failed+scores[0].Failed[i]
	}
	if sent != 1 || failed != 1 {
		t.Errorf("counted %d sent, %d failed; want 1 and 1", sent, failed)
	}
	// The retry that succeeds counts as sent too.
	if run := e.syncGrades(e.activity.ID); run.Sent != 1 {
		t.Fatalf("retry run %+v", run)
	}
	scores, _ = e.inst.App.Stats.Scores(e.ctx, 30)
	if last := len(scores[0].Sent) - 1; scores[0].Sent[last]+scores[0].Sent[max(last-1, 0)] != 2 {
		t.Errorf("after the retry: %+v", scores[0])
	}

	m := e.link(e.whole, "rl-m", "ctx-m", "", false)
	e.p.SetMembers("ctx-m", roster(learner("m-1", "One"), learner("m-2", "Two"), learner("m-3", "Three"),
		ltitest.Member{UserID: "m-4", Name: "Gone", Status: "Inactive", Roles: []string{ltitest.RoleLearner}}))
	e.syncMembers(e.whole.ID)
	rosters, err := e.inst.App.Stats.Rosters(e.ctx, 30, 6)
	if err != nil {
		t.Fatal(err)
	}
	if len(rosters.Links) != 1 || rosters.Links[0].Link.ID != m.ID {
		t.Fatalf("rosters %+v", rosters)
	}
	latest := -1
	for _, v := range rosters.Links[0].Members {
		if v >= 0 {
			latest = v
		}
	}
	if latest != 3 {
		t.Errorf("roster size %d, want the 3 active members (%+v)", latest, rosters.Links[0])
	}
	if lk := rosters.Links[0].Link; lk.Resource != "Physics" || lk.Context != "Course ctx-m" || lk.Platform != e.reg.Name {
		t.Errorf("link named %+v", lk)
	}
}
