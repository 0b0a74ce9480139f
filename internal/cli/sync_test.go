package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/jobs"
)

func TestSyncCommands(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	out, errOut, code := run(t, "course", "import", "--db", db, "--json", "../../examples/course.json")
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	var imported struct {
		CourseID int64 `json:"id"`
	}
	_ = json.Unmarshal([]byte(out), &imported)
	out, errOut, code = run(t, "publish", "--db", db, "--course", itoa(imported.CourseID), "--json")
	if code != 0 {
		t.Fatalf("publish: exit %d: %s", code, errOut)
	}
	var pub map[string]any
	_ = json.Unmarshal([]byte(out), &pub)

	// Queued for a server.
	out, errOut, code = run(t, "sync", "grades", "--db", db)
	if code != 0 || !strings.Contains(out, "queued the grades sync as job") {
		t.Fatalf("sync grades: exit %d %q %q", code, out, errOut)
	}
	// Run here, for one resource (no resource links yet: nothing to do).
	out, errOut, code = run(t, "sync", "members", "--db", db, "--resource", pub["uuid"].(string), "--wait")
	if code != 0 || !strings.Contains(out, "members sync run") || !strings.Contains(out, ": ok in") {
		t.Fatalf("sync members --wait: exit %d %q %q", code, out, errOut)
	}
	// --json: one object with the run's counts.
	out, errOut, code = run(t, "sync", "members", "--db", db, "--resource", pub["uuid"].(string), "--wait", "--json")
	var res map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&res); code != 0 || err != nil || res["status"] != "ok" || res["kind"] != "members" || dec.More() {
		t.Fatalf("sync members --wait --json: exit %d %q %q", code, out, errOut)
	}
	// --force without --wait queues a forced run for the server.
	out, errOut, code = run(t, "sync", "members", "--db", db, "--force")
	if code != 0 || !strings.Contains(out, "queued the members sync as job") {
		t.Fatalf("sync members --force: exit %d %q %q", code, out, errOut)
	}
	_, errOut, code = run(t, "sync", "members", "--db", db, "--wait", "--member-sync-max-unenrol", "0")
	if code == 0 || !strings.Contains(errOut, "between 1 and 100") {
		t.Fatalf("--member-sync-max-unenrol 0: exit %d %q", code, errOut)
	}
	_, errOut, code = run(t, "sync", "grades", "--db", db, "--resource", "no-such-uuid")
	if code != 1 || !strings.Contains(errOut, "no published resource") {
		t.Fatalf("unknown resource: exit %d %q", code, errOut)
	}
}

// The progress of a grade run names its grade counts: plain lines when not on a terminal, at most one a second.
func TestSyncProgressGrades(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	progress := newProgress(&b, Env{tr: printer("")}.t)
	r := jobs.Run{ID: 7, Kind: jobs.KindGrades, Status: jobs.StatusRunning, StartedAt: time.Now(), Links: 2, Sent: 40, Unchanged: 3, Failed: 1}
	progress(r)
	r.Sent = 41
	progress(r) // within the second: not printed
	progress(jobs.Run{})
	out := b.String()
	if !strings.Contains(out, "grades sync run 7: running for") || !strings.Contains(out, "2 resource links, sent 40, unchanged 3, failed 1\n") ||
		strings.Contains(out, "sent 41") || strings.Contains(out, "\r") || strings.Contains(out, "enrolled") {
		t.Fatalf("progress %q", out)
	}
}

// `sync grades --wait` runs here and prints the grade counts; with --json, one object.
func TestSyncGradesWait(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	out, errOut, code := run(t, "sync", "grades", "--db", db, "--wait")
	if code != 0 || !strings.Contains(out, "grades sync run") || !strings.Contains(out, "sent 0, unchanged 0, failed 0") {
		t.Fatalf("sync grades --wait: exit %d %q %q", code, out, errOut)
	}
	out, errOut, code = run(t, "sync", "grades", "--db", db, "--wait", "--json")
	var res map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&res); code != 0 || err != nil || res["status"] != "ok" || res["kind"] != "grades" || res["sent"] != 0.0 || dec.More() {
		t.Fatalf("sync grades --wait --json: exit %d %q %q", code, out, errOut)
	}
}
