package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// migrationWorld is a site that a Moodle-like platform used over LTI 1.1 (consumer key moodle-site-key) and now
// launches over LTI 1.3, with the lti1p1 migration claim (issue 22).
type migrationWorld struct {
	*legacyWorld
	p *ltitest.Platform
}

func newMigrationWorld(t *testing.T, opts apptest.Options) *migrationWorld {
	t.Helper()
	w := &migrationWorld{legacyWorld: newLegacyWorld(t, opts), p: ltitest.NewServer(t, ltitest.Config{})}
	w.inst.Platform(t, w.p, "client-1")
	return w
}

// launch13 launches the quiz over LTI 1.3 as sub, with mig as the lti1p1 claim (nil: none). With custom false, the
// link carries no custom id: it is one the platform migrated, known to ltipub by its 1.1 resource_link_id only.
func (w *migrationWorld) launch13(t *testing.T, sub, linkID string, mig *ltitest.LTI1p1, custom bool) *ltitest.LaunchResult {
	t.Helper()
	spec := ltitest.LaunchSpec{User: &ltitest.User{Sub: sub, Name: "Stu Dent"}, Roles: []string{ltitest.RoleLearner},
		Context: &ltitest.Context{ID: "course-1"}, ResourceLink: &ltitest.ResourceLink{ID: linkID}, LTI1p1: mig,
		// Moodle names its site by the same GUID over both versions.
		ToolPlatform: &ltitest.ToolPlatform{GUID: w.c.InstanceGUID, Name: "Moodle", ProductFamilyCode: "moodle"}}
	if custom {
		spec.Custom = map[string]string{"id": w.quizR.UUID}
	}
	res, err := w.p.Launch(context.Background(), newLaunchClient(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// claim is the lti1p1 claim of 1.1 user uid, signed with the quiz's secret.
func (w *migrationWorld) claim(uid string) *ltitest.LTI1p1 {
	return &ltitest.LTI1p1{UserID: uid, ConsumerKey: w.c.Key, Secret: w.quizR.LegacySecret}
}

// account13 is the account the 1.3 identity sub is linked to (0: none).
func (w *migrationWorld) account13(t *testing.T, sub string) int64 {
	t.Helper()
	lu, err := w.inst.Store.LTIUser(context.Background(), w.p.Issuer(), sub)
	if err != nil {
		return 0
	}
	return lu.UserID
}

func (w *migrationWorld) lastLog(t *testing.T) launch.LogEntry {
	t.Helper()
	log, err := w.inst.Store.LaunchLog(context.Background(), launch.LogFilter{Limit: 1})
	if err != nil || len(log) == 0 {
		t.Fatalf("launch log: %v", err)
	}
	return log[0]
}

func (w *migrationWorld) users(t *testing.T) int {
	t.Helper()
	var n int
	if err := w.inst.Store.DB().QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLTI11To13Migration: a 1.1 launch makes an account; a 1.3 launch with a valid lti1p1 claim lands in it with
// its grades and attempts; a forged or stale claim is refused and logged, never linked; an unknown key lands apart
// with a warning. On both engines.
func TestLTI11To13Migration(t *testing.T) {
	t.Parallel()
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			lti11To13Migration(t, e)
		})
	}
}

func lti11To13Migration(t *testing.T, e sqlstore.Engine) {
	w := newMigrationWorld(t, apptest.Options{Engine: e})
	ctx := context.Background()

	// A 1.1 launch makes the account, and the student does the quiz in it.
	const uid = "moodle-user-7"
	resp := w.browser(t).launch(w.quizR, w.c.LaunchParams("rl-quiz", uid, rolesLearner), nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, w.quiz.Name) {
		t.Fatalf("1.1 launch: %d %s", resp.StatusCode, resp.Body)
	}
	u11, ok := w.linked(t, uid)
	if !ok {
		t.Fatal("the 1.1 launch made no account")
	}
	if _, err := w.inst.App.Courses.SubmitQuiz(ctx, &u11, w.quiz.ID, course.Answers{}); err != nil {
		t.Fatal(err)
	}
	grade, err := w.inst.Store.GradeOf(ctx, w.quiz.ID, u11.ID)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a valid claim lands in the 1.1 account, grades and attempts included", func(t *testing.T) {
		before := w.users(t)
		res := w.launch13(t, "sub-7", "rl-quiz-13", w.claim(uid), true)
		if res.Response.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), w.quiz.Name) {
			t.Fatalf("1.3 launch: %d %s", res.Response.StatusCode, res.Body)
		}
		if got := w.account13(t, "sub-7"); got != u11.ID {
			t.Fatalf("the 1.3 identity is linked to account %d, want the 1.1 account %d", got, u11.ID)
		}
		if after := w.users(t); after != before {
			t.Fatalf("the 1.3 launch made an account (%d → %d)", before, after)
		}
		atts, err := w.inst.Store.Attempts(ctx, w.quiz.ID, w.account13(t, "sub-7"))
		if err != nil || len(atts) != 1 {
			t.Fatalf("attempts of the landed account: %d %v", len(atts), err)
		}
		if g, err := w.inst.Store.GradeOf(ctx, w.quiz.ID, w.account13(t, "sub-7")); err != nil || g.Grade != grade.Grade {
			t.Fatalf("grade of the landed account: %+v %v, want %v", g, err, grade.Grade)
		}
		e := w.lastLog(t)
		if full, err := w.inst.Store.LaunchLogEntry(ctx, e.ID, time.Time{}); err == nil {
			e = full
		}
		if e.Outcome != launch.Accepted || e.Detail == nil || e.Detail.Did == nil || !strings.Contains(e.Detail.Did.Account, "LTI 1.1") {
			t.Fatalf("launch log: %+v did %+v", e, e.Detail)
		}
	})

	t.Run("a migrated link without custom id is found through its 1.1 predecessor", func(t *testing.T) {
		// Moodle's Moodle-made 1.1 link kept its resource_link_id; a new person arrives over 1.3 first.
		res := w.launch13(t, "sub-7", "rl-quiz", w.claim(uid), false)
		if res.Response.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), w.quiz.Name) {
			t.Fatalf("1.3 launch of the migrated link: %d %s", res.Response.StatusCode, res.Body)
		}
		var n int
		if err := w.inst.Store.DB().QueryRow(`SELECT COUNT(*) FROM lti_link_predecessors p
			JOIN lti_resource_links l ON l.id = p.resource_link_id
			JOIN lti_resource_links o ON o.id = p.predecessor_id
			WHERE l.link_id = 'rl-quiz' AND l.registration_id IS NOT NULL AND o.link_id = 'rl-quiz' AND o.registration_id IS NULL`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("predecessor records: %d %v", n, err)
		}
		// The claim's resource_link_id names the 1.1 link when the platform gave the link a new id.
		res = w.launch13(t, "sub-7", "rl-renamed", &ltitest.LTI1p1{UserID: uid, ConsumerKey: w.c.Key, Secret: w.quizR.LegacySecret,
			ResourceLinkID: "rl-quiz"}, false)
		if res.Response.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), w.quiz.Name) {
			t.Fatalf("1.3 launch of a renamed link: %d %s", res.Response.StatusCode, res.Body)
		}
	})

	t.Run("Moodle's hex form of the signature is accepted", func(t *testing.T) {
		const uid2 = "moodle-user-8"
		w.browser(t).launch(w.quizR, w.c.LaunchParams("rl-quiz", uid2, rolesLearner), nil)
		u, _ := w.linked(t, uid2)
		m := w.claim(uid2)
		m.MoodleHex = true
		if res := w.launch13(t, "sub-8", "rl-quiz", m, true); res.Response.StatusCode != http.StatusOK {
			t.Fatalf("1.3 launch: %d %s", res.Response.StatusCode, res.Body)
		}
		if got := w.account13(t, "sub-8"); got != u.ID || u.ID == 0 {
			t.Fatalf("linked to %d, want %d", got, u.ID)
		}
	})

	t.Run("a forged or stale signature is refused and logged, never linked", func(t *testing.T) {
		const uid3 = "moodle-user-9"
		w.browser(t).launch(w.quizR, w.c.LaunchParams("rl-quiz", uid3, rolesLearner), nil)
		before := w.users(t)
		forged := map[string]*ltitest.LTI1p1{
			"wrong secret": {UserID: uid3, ConsumerKey: w.c.Key, Secret: "guessed-secret"},
			// A sign copied from another launch: it covers that launch's nonce and expiry.
			"stale": {UserID: uid3, ConsumerKey: w.c.Key, Sign: lti11SignOf(t, w)},
		}
		for name, m := range forged {
			res := w.launch13(t, "sub-9", "rl-quiz", m, true)
			body := string(res.Body)
			if res.Response.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "migration claim") {
				t.Fatalf("%s: %d %s", name, res.Response.StatusCode, body)
			}
			if !strings.Contains(body, "administrator") {
				t.Errorf("%s: the learner is not told who can fix it: %s", name, body)
			}
			if w.account13(t, "sub-9") != 0 || w.users(t) != before {
				t.Fatalf("%s: a forged claim linked or made an account", name)
			}
			e := w.lastLog(t)
			if e.Outcome != launch.Refused || e.Code != publish.CodeMigrationSignature || !strings.Contains(e.Reason, w.c.Key) {
				t.Fatalf("%s: launch log %+v", name, e)
			}
		}
	})

	t.Run("an unknown consumer key lands without linking, with a warning naming the key", func(t *testing.T) {
		res := w.launch13(t, "sub-10", "rl-quiz", &ltitest.LTI1p1{UserID: uid, ConsumerKey: "never-used-key", Secret: "x"}, true)
		if res.Response.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.Response.StatusCode, res.Body)
		}
		if got := w.account13(t, "sub-10"); got == 0 || got == u11.ID {
			t.Fatalf("linked to %d (the 1.1 account is %d)", got, u11.ID)
		}
		if e := w.lastLog(t); e.Outcome != launch.Accepted || !strings.Contains(e.Warning, `"never-used-key"`) {
			t.Fatalf("launch log: %+v", e)
		}
	})
}

// lti11SignOf is a valid oauth_consumer_key_sign of another launch (its own nonce and expiry).
func lti11SignOf(t *testing.T, w *migrationWorld) string {
	t.Helper()
	res := w.launch13(t, "sub-other", "rl-quiz", &ltitest.LTI1p1{UserID: "moodle-user-7", ConsumerKey: w.c.Key, Secret: w.quizR.LegacySecret}, true)
	if res.Response.StatusCode != http.StatusOK {
		t.Fatalf("donor launch: %d", res.Response.StatusCode)
	}
	return claimSign(t, w.p.LastIDToken())
}

// TestMigrationConcurrentFirstLaunches launches the same person over LTI 1.1 and over LTI 1.3 (with a valid
// claim) at the same time, neither having launched before: one account holds both identities.
func TestMigrationConcurrentFirstLaunches(t *testing.T) {
	t.Parallel()
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			w := newMigrationWorld(t, apptest.Options{Engine: e})
			// The key is known: another student's 1.1 launch used it.
			if r := w.browser(t).launch(w.quizR, w.c.LaunchParams("rl-quiz", "student-0", rolesLearner), nil); r.StatusCode != http.StatusOK {
				t.Fatalf("first 1.1 launch: %d", r.StatusCode)
			}
			for i := range 4 {
				uid, sub := "racer-"+string(rune('a'+i)), "sub-racer-"+string(rune('a'+i))
				var wg sync.WaitGroup
				var st11, st13 int
				wg.Add(2)
				go func() {
					defer wg.Done()
					st11 = w.browser(t).launch(w.quizR, w.c.LaunchParams("rl-quiz", uid, rolesLearner), nil).StatusCode
				}()
				go func() {
					defer wg.Done()
					spec := ltitest.LaunchSpec{User: &ltitest.User{Sub: sub}, Roles: []string{ltitest.RoleLearner},
						ResourceLink: &ltitest.ResourceLink{ID: "rl-quiz"}, Custom: map[string]string{"id": w.quizR.UUID},
						ToolPlatform: &ltitest.ToolPlatform{GUID: w.c.InstanceGUID}, LTI1p1: w.claim(uid)}
					res, err := w.p.Launch(context.Background(), newLaunchClient(), spec)
					if err == nil {
						st13 = res.Response.StatusCode
					}
				}()
				wg.Wait()
				if st11 != http.StatusOK || st13 != http.StatusOK {
					t.Fatalf("%s: statuses 1.1 %d, 1.3 %d", uid, st11, st13)
				}
				u11, ok := w.linked(t, uid)
				if !ok || w.account13(t, sub) != u11.ID {
					log, _ := w.inst.Store.LaunchLog(context.Background(), launch.LogFilter{Limit: 3})
					t.Fatalf("%s: 1.1 account %d, 1.3 account %d; launch log %+v", uid, u11.ID, w.account13(t, sub), log)
				}
				var n int
				if err := w.inst.Store.DB().QueryRow(`SELECT COUNT(*) FROM users WHERE username LIKE 'lti\_%' ESCAPE '\' AND id NOT IN (SELECT user_id FROM lti_users)`).Scan(&n); err != nil || n != 0 {
					t.Fatalf("%s: %d accounts left behind by the race (%v)", uid, n, err)
				}
			}
		})
	}
}

// claimSign reads oauth_consumer_key_sign from an id_token's payload.
func claimSign(t *testing.T, idToken string) string {
	t.Helper()
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		t.Fatal("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]json.RawMessage
	var m struct {
		Sign string `json:"oauth_consumer_key_sign"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || json.Unmarshal(c[ltitest.ClaimLTI1p1], &m) != nil || m.Sign == "" {
		t.Fatalf("no lti1p1 sign in %s", raw)
	}
	return m.Sign
}
