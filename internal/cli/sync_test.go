package cli

import (
	"encoding/json"
	"strings"
	"testing"
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
