package jobs_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/cli"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/lti/lti11"
	"github.com/ltipub/ltipub/lti/lti11/lti11test"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// Issue 23: at most one member sync per resource link; unenrol only from a run's own complete listing, judged
// against the enrolments of its start; a safety valve for collapsing rosters.

func learners(n int) []ltitest.Member {
	ms := make([]ltitest.Member, n)
	for i := range ms {
		ms[i] = learner(fmt.Sprintf("sub-%05d", i), fmt.Sprintf("Learner %d", i))
	}
	return ms
}

// resourceEnrolments counts the enrolments member sync or launches made for res.
func (e *env) resourceEnrolments(resourceID int64) int {
	e.t.Helper()
	var n int
	if err := e.inst.Store.DB().QueryRowContext(e.ctx, rebind(e, `SELECT COUNT(*) FROM enrolments WHERE published_resource_id = $1 AND method = 'lti'`),
		resourceID).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// holdFirstPage makes the platform hold the next roster request until release is closed; arrived gets a value
// when the request is there.
func holdFirstPage(p *ltitest.Platform) (release chan struct{}, arrived chan struct{}) {
	return holdPage(p, 1)
}

// holdPage holds the n-th roster request from now (the first n-1 pass).
func holdPage(p *ltitest.Platform, n int) (release chan struct{}, arrived chan struct{}) {
	release, arrived = make(chan struct{}), make(chan struct{}, 1)
	if n > 1 {
		p.InjectFault(ltitest.Fault{Service: ltitest.ServiceNRPS, Kind: ltitest.FaultSlow, Delay: time.Nanosecond, Count: n - 1})
	}
	p.InjectFault(ltitest.Fault{Service: ltitest.ServiceNRPS, Kind: ltitest.FaultSlow, Until: release, Arrived: arrived})
	return release, arrived
}

// patientHTTP lets a roster request wait as long as the test holds it (the default test client gives up after 2 s,
// and would retry instead).
func patientHTTP(c *jobs.Config) { c.HTTP = &http.Client{Timeout: time.Minute} }

func waitChan(t testing.TB, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// secondSaidBusy waits until a run other than holder recorded that it waits for the holder or left the link to it.
func (e *env) secondSaidBusy(svc *jobs.Service, holder int64) jobs.Run {
	e.t.Helper()
	var got jobs.Run
	eventually(e.t, 30*time.Second, "the second sync to notice the first", func() bool {
		runs, err := svc.Runs(e.ctx, jobs.KindMembers, 5)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range runs {
			if r.ID != holder && strings.Contains(r.Note, fmt.Sprintf("(run %d)", holder)) ||
				strings.Contains(r.Note, fmt.Sprintf("waiting for run %d,", holder)) {
				got = r
				return true
			}
		}
		return false
	})
	return got
}

// runningRun gives the member sync run that is running (the claim holder).
func (e *env) runningRun(svc *jobs.Service) jobs.Run {
	e.t.Helper()
	var got jobs.Run
	eventually(e.t, 30*time.Second, "a running member sync", func() bool {
		runs, err := svc.Runs(e.ctx, jobs.KindMembers, 5)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range runs {
			if r.Status == jobs.StatusRunning && r.Links == 1 {
				got = r
				return true
			}
		}
		return false
	})
	return got
}

func TestMemberSyncOneAtATimeCLIAndPeriodic(t *testing.T) {
	t.Parallel()
	const n = 5000
	e := newEnv(t, envOpts{jobs: patientHTTP})
	e.link(e.whole, "rl-1", "ctx-1", "", false)
	e.p.SetMembers("ctx-1", learners(n))
	// The CLI's work, set up once (opening the database and building the services is not what is tested).
	ss, err := cli.OpenSync(e.ctx, cli.SyncOptions{Kind: jobs.KindMembers, DB: e.inst.DSN, Resource: e.whole.UUID, Wait: true, AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ss.Close)
	rounds := 20
	if raceEnabled {
		rounds = 4 // 90 s of CI's race step with 20; the plain run keeps all 20
	}
	for round := range rounds {
		// The first sync stops on its third page of five: a second listing that ran meanwhile would mark every
		// member as its own, and the first would take its first two pages for gone.
		release, arrived := holdPage(e.p, 3)
		type cliResult struct {
			out string
			err error
		}
		cliDone := make(chan cliResult, 1)
		periodicDone := make(chan jobs.Run, 1)
		start := make(chan struct{})
		go func() {
			<-start
			var out bytes.Buffer
			err := ss.Run(e.ctx, &out)
			cliDone <- cliResult{out.String(), err}
		}()
		go func() {
			<-start
			run, err := e.svc.SyncMembers(e.ctx, jobs.CausePeriodic, e.whole.ID, 0)
			if err != nil {
				t.Errorf("round %d: periodic: %v", round, err)
			}
			periodicDone <- run
		}()
		close(start)
		waitChan(t, arrived, "the roster request of the first sync")
		holder := e.runningRun(e.svc)
		second := e.secondSaidBusy(e.svc, holder.ID)
		close(release)
		c := <-cliDone
		p := <-periodicDone
		if c.err != nil {
			t.Fatalf("round %d: CLI: %v\n%s", round, c.err, c.out)
		}
		if got := e.resourceEnrolments(e.whole.ID); got != n {
			t.Fatalf("round %d: %d of %d enrolled after the pair (CLI said %q, periodic %+v)", round, got, n, c.out, p)
		}
		// One of the pair listed the roster; the other waited (the CLI) or left it (the periodic run).
		switch {
		case p.ID == holder.ID:
			if !strings.Contains(c.out, fmt.Sprintf("waited for the members sync already running (run %d", holder.ID)) ||
				!strings.Contains(c.out, "already running since") || second.Cause != jobs.CauseManual {
				t.Fatalf("round %d: the CLI did not say it waited for run %d:\n%s", round, holder.ID, c.out)
			}
		default:
			if !strings.Contains(p.Note, "already running since") || p.Links != 0 || p.Unenrolled != 0 {
				t.Fatalf("round %d: the periodic run did not leave the link to the CLI's: %+v", round, p)
			}
		}
		if p.Unenrolled != 0 || strings.Contains(c.out, "unenrolled 1") {
			t.Fatalf("round %d: something was unenrolled: %+v\n%s", round, p, c.out)
		}
	}
}

func TestMemberSyncOneAtATimeTwoInstancesPostgres(t *testing.T) {
	t.Parallel()
	const n = 5000
	e := newEnv(t, envOpts{engine: sqlstore.Postgres, jobs: patientHTTP})
	e.link(e.whole, "rl-1", "ctx-1", "", false)
	e.p.SetMembers("ctx-1", learners(n))
	// A second instance on the same database, with its own sync service.
	other := apptest.Start(t, apptest.Options{DSN: e.inst.DSN, NoAdmin: true})
	a2 := other.App
	svc2, err := jobs.New(jobs.Config{Store: a2.Store, Publish: a2.Store, Provision: a2.Publish, Courses: a2.Store, Registrations: a2.Store,
		Keys: a2.Keys, HTTP: &http.Client{Timeout: time.Minute}, Engine: string(a2.Store.Engine()), DSN: a2.Store.DSN(),
		GradeInterval: -1, MemberInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc2.Close)
	for round := range 20 {
		release, arrived := holdPage(e.p, 3)
		done := make(chan jobs.Run, 2)
		start := make(chan struct{})
		for i, svc := range []*jobs.Service{e.svc, svc2} {
			cause := []jobs.Cause{jobs.CausePeriodic, jobs.CauseManual}[i]
			go func() {
				<-start
				run, err := svc.SyncMembers(e.ctx, cause, e.whole.ID, 0)
				if err != nil {
					t.Errorf("round %d: instance %d: %v", round, i+1, err)
				}
				done <- run
			}()
		}
		close(start)
		waitChan(t, arrived, "the roster request of the first sync")
		holder := e.runningRun(e.svc)
		e.secondSaidBusy(e.svc, holder.ID)
		close(release)
		r1, r2 := <-done, <-done
		if got := e.resourceEnrolments(e.whole.ID); got != n {
			t.Fatalf("round %d: %d of %d enrolled after the pair (%+v, %+v)", round, got, n, r1, r2)
		}
		busy := 0
		for _, r := range []jobs.Run{r1, r2} {
			if r.Unenrolled != 0 || r.Status != jobs.StatusOK {
				t.Fatalf("round %d: %+v", round, r)
			}
			if strings.Contains(r.Note, "already running since") && r.Links == 0 {
				busy++
			}
		}
		if busy != 1 {
			t.Fatalf("round %d: want exactly one run that found the link busy: %+v, %+v", round, r1, r2)
		}
	}
}

func TestMemberSyncKeepsMembersWhoLaunchDuringTheRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{jobs: func(c *jobs.Config) { patientHTTP(c); c.MemberPageSize = 2 }})
	e.link(e.whole, "rl-1", "ctx-1", "", false)
	e.p.SetMembers("ctx-1", roster(learner("sub-1", "Ada"), learner("sub-2", "Bob"), learner("sub-3", "Cy")))
	if run := e.syncMembers(e.whole.ID); run.Enrolled != 3 {
		t.Fatalf("first run %+v", run)
	}
	release, arrived := holdFirstPage(e.p)
	done := make(chan jobs.Run, 1)
	go func() {
		run, err := e.svc.SyncMembers(e.ctx, jobs.CauseManual, e.whole.ID, 0)
		if err != nil {
			t.Error(err)
		}
		done <- run
	}()
	waitChan(t, arrived, "the sync's roster request")
	// Dee joins the platform's course and launches while the sync waits for the roster, which it read before
	// she joined (the listing below does not have her).
	jar, _ := cookiejar.New(nil)
	res, err := e.p.Launch(e.ctx, &http.Client{Jar: jar}, ltitest.LaunchSpec{
		User:         &ltitest.User{Sub: "sub-dee", Name: "Dee New", Email: "dee@example.test"},
		Roles:        []string{ltitest.RoleLearner},
		Context:      &ltitest.Context{ID: "ctx-1", Title: "Course ctx-1"},
		ResourceLink: &ltitest.ResourceLink{ID: "rl-1"},
		Custom:       map[string]string{"id": e.whole.UUID}, NRPS: true,
	})
	if err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch: %v %+v", err, res)
	}
	if _, ok := e.enrolled()["sub-dee"]; !ok {
		t.Fatal("the launch did not enrol Dee")
	}
	close(release)
	run := <-done
	if run.Unenrolled != 0 || run.Status != jobs.StatusOK {
		t.Fatalf("the sync that started before Dee's launch unenrolled: %+v", run)
	}
	if _, ok := e.enrolled()["sub-dee"]; !ok {
		t.Fatal("Dee lost her enrolment to a sync that started before she launched")
	}
	// The next sync, started after her launch, judges her by its own listing: gone from the roster, unenrolled.
	if run := e.syncMembers(e.whole.ID); run.Unenrolled != 1 {
		t.Fatalf("later run %+v", run)
	}
}

func TestMemberSyncSafetyValve(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{startJobs: true})
	l := e.link(e.whole, "rl-1", "ctx-1", "", false)
	all := learners(1000)
	e.p.SetMembers("ctx-1", all)
	if run := e.syncMembers(e.whole.ID); run.Enrolled != 1000 {
		t.Fatalf("first run %+v", run)
	}
	// The platform suddenly lists 10.
	e.p.SetMembers("ctx-1", all[:10])
	run := e.syncMembers(e.whole.ID)
	if run.Unenrolled != 0 || run.Held != 990 || run.Status != jobs.StatusHeld || !strings.Contains(run.Note, "990 of the 1000 members") {
		t.Fatalf("collapsed roster: %+v", run)
	}
	// The reason names a few of the people who would go, for an admin to look up on the platform.
	if !regexp.MustCompile(`returned, among them Learner \d+ \([^)]+\), Learner \d+ \([^)]+\), .* and 985 more, more than`).MatchString(run.Note) {
		t.Fatalf("the held reason names nobody: %q", run.Note)
	}
	if got := e.resourceEnrolments(e.whole.ID); got != 1000 {
		t.Fatalf("%d enrolled after a held run", got)
	}

	// The Sync page says why and offers Confirm; so does its status JSON.
	c := e.inst.Client(t)
	e.inst.Login(t, c, "admin", apptest.AdminPassword)
	page := e.inst.Get(t, c, "/admin/sync")
	confirm := fmt.Sprintf(`id="confirm-%d"`, l.ID)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "990 of the 1000 members") ||
		!strings.Contains(page.Body, "--member-sync-max-unenrol") || !strings.Contains(page.Body, confirm) ||
		!strings.Contains(page.Body, "/static/sync.js?v=") {
		t.Fatalf("sync page:\n%s", page.Body)
	}
	st := syncStatus(t, e, c)
	if len(st.Holds) != 1 || st.Holds[0].LinkID != l.ID || st.Holds[0].WouldUnenrol != 990 || st.Runs["members"][0].Held != 990 {
		t.Fatalf("status %+v", st)
	}

	// --force applies it, through the CLI.
	var out bytes.Buffer
	if err := cli.RunSync(e.ctx, cli.SyncOptions{Kind: jobs.KindMembers, DB: e.inst.DSN, Resource: e.whole.UUID, Wait: true, Force: true,
		AllowPrivate: true, JSON: true}, &out); err != nil {
		t.Fatalf("sync --force: %v\n%s", err, out.String())
	}
	var res struct {
		Status     string `json:"status"`
		Unenrolled int    `json:"unenrolled"`
		Held       int    `json:"held"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Unenrolled != 990 || res.Held != 0 || res.Status != "ok" {
		t.Fatalf("--force printed %s (%v)", out.String(), err)
	}
	if got := e.resourceEnrolments(e.whole.ID); got != 10 {
		t.Fatalf("%d enrolled after --force", got)
	}
	if page := e.inst.Get(t, c, "/admin/sync"); strings.Contains(page.Body, confirm) {
		t.Fatal("the applied hold is still offered")
	}

	// Confirm on the page does the same: it queues a forced sync of the link.
	e.p.SetMembers("ctx-1", all[:20])
	if run := e.syncMembers(e.whole.ID); run.Enrolled != 10 {
		t.Fatalf("back to 20: %+v", run)
	}
	e.p.SetMembers("ctx-1", all[:2])
	if run := e.syncMembers(e.whole.ID); run.Held != 18 {
		t.Fatalf("20 to 2: %+v", run)
	}
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// A cross-site form post is refused, like every other form's.
	forged, _ := http.NewRequest(http.MethodPost, e.inst.URL+"/admin/sync/members/confirm", strings.NewReader(url.Values{"link_id": {fmt.Sprint(l.ID)}}.Encode()))
	forged.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	forged.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := e.inst.Do(t, &noFollow, forged); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site confirm: %d", res.StatusCode)
	}
	if res := e.inst.PostForm(t, &noFollow, "/admin/sync/members/confirm", url.Values{"link_id": {fmt.Sprint(l.ID)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d %s", res.StatusCode, res.Body)
	}
	eventually(t, 30*time.Second, "the confirmed sync", func() bool { return e.resourceEnrolments(e.whole.ID) == 2 })
	eventually(t, 10*time.Second, "the hold to go", func() bool { return len(syncStatus(t, e, c).Holds) == 0 })
	if res := e.inst.PostForm(t, &noFollow, "/admin/sync/members/confirm", url.Values{"link_id": {fmt.Sprint(l.ID)}}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("confirm again: %d", res.StatusCode)
	}
}

type statusJSON struct {
	Running bool `json:"running"`
	Runs    map[string][]struct {
		ID       int64  `json:"id"`
		Status   string `json:"status"`
		Enrolled int    `json:"enrolled"`
		Held     int    `json:"held"`
		Sent     int    `json:"sent"`
	} `json:"runs"`
	Holds []struct {
		LinkID       int64 `json:"link_id"`
		WouldUnenrol int   `json:"would_unenrol"`
	} `json:"holds"`
}

func syncStatus(t *testing.T, e *env, c *http.Client) statusJSON {
	t.Helper()
	res := e.inst.Get(t, c, "/admin/sync/status.json")
	var st statusJSON
	if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(res.Body), &st) != nil {
		t.Fatalf("status.json: %d %s", res.StatusCode, res.Body)
	}
	return st
}

func TestLegacyMemberSyncClaimAndSafetyValve(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	e.svc = e.newService(func(c *jobs.Config) { c.Legacy = e.inst.Store })
	c := lti11test.New(t, "moodle-key", e.whole.LegacySecret)
	l := e.legacyLink(c, e.whole, "rl-roster", "mem-1")
	var all []lti11.Member
	for i := range 40 {
		all = append(all, lti11.Member{UserID: fmt.Sprintf("m%02d", i), Roles: "Learner", FullName: fmt.Sprintf("Member %d", i)})
	}
	c.SetRoster("mem-1", all)
	if run, err := e.svc.SyncMembers(e.ctx, jobs.CauseManual, e.whole.ID, 0); err != nil || run.Enrolled != 40 {
		t.Fatalf("first sync %+v %v", run, err)
	}
	// Another run holds the link: this one leaves it alone.
	if _, ok, err := e.inst.Store.ClaimMemberLink(e.ctx, l.ID, 999999, time.Now(), time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	c.SetRoster("mem-1", all[:4])
	run, err := e.svc.SyncMembers(e.ctx, jobs.CausePeriodic, e.whole.ID, 0)
	if err != nil || run.Links != 0 || run.Unenrolled != 0 || !strings.Contains(run.Note, "already running since") {
		t.Fatalf("claimed link: %+v %v", run, err)
	}
	if err := e.inst.Store.ReleaseMemberClaim(e.ctx, l.ID, 999999); err != nil {
		t.Fatal(err)
	}
	// The roster collapses from 40 to 4: held, not applied, until forced.
	run, err = e.svc.SyncMembers(e.ctx, jobs.CauseManual, e.whole.ID, 0)
	if err != nil || run.Held != 36 || run.Unenrolled != 0 || run.Status != jobs.StatusHeld {
		t.Fatalf("collapsed 1.1 roster: %+v %v", run, err)
	}
	run, err = e.svc.SyncMembersWith(e.ctx, jobs.MemberSyncOptions{Cause: jobs.CauseManual, ResourceID: e.whole.ID, Force: true})
	if err != nil || run.Unenrolled != 36 || run.Held != 0 {
		t.Fatalf("forced: %+v %v", run, err)
	}
}

func TestMemberSyncTakesOverAnExpiredClaim(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	l := e.link(e.whole, "rl-1", "ctx-1", "", false)
	e.p.SetMembers("ctx-1", roster(learner("sub-1", "Ada")))
	// A run whose process died a while ago left its claim.
	if _, ok, err := e.inst.Store.ClaimMemberLink(e.ctx, l.ID, 999999, time.Now().Add(-2*time.Minute), time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if run := e.syncMembers(e.whole.ID); run.Links != 1 || run.Enrolled != 1 {
		t.Fatalf("after an expired claim: %+v", run)
	}
	if _, held, err := e.inst.Store.MemberClaimOf(e.ctx, l.ID); err != nil || held {
		t.Fatalf("the run left its claim: %v %v", held, err)
	}
}

// Issue 13, item 6: a running sync shows its counts as pages go by, on the Sync page's status and in the CLI.
func TestMemberSyncLiveProgress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{jobs: func(c *jobs.Config) { patientHTTP(c); c.MemberPageSize = 2 }})
	e.link(e.whole, "rl-1", "ctx-1", "", false)
	e.p.SetMembers("ctx-1", learners(6))
	c := e.inst.Client(t)
	e.inst.Login(t, c, "admin", apptest.AdminPassword)
	// Two pages go through; the third waits.
	release, arrived := holdPage(e.p, 3)
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // a failure below must not leave the platform's request hanging
	done := make(chan jobs.Run, 1)
	go func() {
		run, err := e.svc.SyncMembers(e.ctx, jobs.CauseManual, e.whole.ID, 0)
		if err != nil {
			t.Error(err)
		}
		done <- run
	}()
	waitChan(t, arrived, "the third roster page")
	eventually(t, 10*time.Second, "the counts of two pages on the status", func() bool {
		st := syncStatus(t, e, c)
		runs := st.Runs["members"]
		return st.Running && len(runs) > 0 && runs[0].Status == jobs.StatusRunning && runs[0].Enrolled == 4
	})
	if page := e.inst.Get(t, c, "/admin/sync"); !strings.Contains(page.Body, `class="status-running"`) {
		t.Fatalf("the page does not show the run under way:\n%s", page.Body)
	}
	free()
	if run := <-done; run.Enrolled != 6 || run.Status != jobs.StatusOK {
		t.Fatalf("run %+v", run)
	}
	if st := syncStatus(t, e, c); st.Running || st.Runs["members"][0].Enrolled != 6 || st.Runs["members"][0].Status != "ok" {
		t.Fatalf("final status %+v", st)
	}

	// The CLI: plain progress lines when not on a terminal, then the final counts; --json prints one object.
	e.p.SetMembers("ctx-1", learners(10))
	var out bytes.Buffer
	if err := cli.RunSync(e.ctx, cli.SyncOptions{Kind: jobs.KindMembers, DB: e.inst.DSN, Resource: e.whole.UUID, Wait: true, AllowPrivate: true}, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.Contains(text, "members sync run") || !strings.Contains(text, ": running for") || strings.Contains(text, "\r") ||
		!strings.Contains(text, ": ok in") || !strings.Contains(text, "enrolled 4, unenrolled 0") {
		t.Fatalf("--wait printed:\n%s", text)
	}
	e.p.SetMembers("ctx-1", learners(11))
	out.Reset()
	if err := cli.RunSync(e.ctx, cli.SyncOptions{Kind: jobs.KindMembers, DB: e.inst.DSN, Resource: e.whole.UUID, Wait: true, AllowPrivate: true,
		JSON: true}, &out); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&out)
	var res map[string]any
	if err := dec.Decode(&res); err != nil || res["status"] != "ok" || res["enrolled"] != float64(1) || res["kind"] != "members" {
		t.Fatalf("--json: %v %v", res, err)
	}
	if dec.More() {
		t.Fatal("--json printed more than one object")
	}
}
