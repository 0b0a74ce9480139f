package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/jobs"
)

func TestAdminSyncPage(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{Jobs: true})
	c := inst.Client(t)
	inst.Login(t, c, "admin", apptest.AdminPassword)
	res := inst.Get(t, c, "/admin/sync")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Grade sync") || !strings.Contains(res.Body, "Member sync") ||
		!strings.Contains(res.Body, `id="run-grades"`) {
		t.Fatalf("sync page: %d %s", res.StatusCode, res.Body)
	}
	res = inst.PostForm(t, c, "/admin/sync/members/run", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("run now: %d %s", res.StatusCode, res.Body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		runs, err := inst.App.Jobs.Runs(t.Context(), jobs.KindMembers, 1)
		if err == nil && len(runs) == 1 && runs[0].Status == jobs.StatusOK && runs[0].Cause == jobs.CauseManual {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queued run did not happen: %+v %v", runs, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	res = inst.Get(t, c, "/admin/sync")
	if !strings.Contains(res.Body, `class="status-ok"`) || !strings.Contains(res.Body, "manual") {
		t.Fatalf("the run is not listed: %s", res.Body)
	}
	// Not for other users.
	inst.EnsureUser(t, account.NewUser{Username: "bob", Password: "a long password 1"})
	bob := inst.Client(t)
	inst.Login(t, bob, "bob", "a long password 1")
	if res := inst.Get(t, bob, "/admin/sync"); res.StatusCode == http.StatusOK {
		t.Fatalf("a non-admin sees the sync page")
	}
	if res := inst.PostForm(t, bob, "/admin/sync/grades/run", nil); res.StatusCode == http.StatusSeeOther {
		t.Fatalf("a non-admin queued a sync")
	}
}
