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
	_, errOut, code = run(t, "sync", "grades", "--db", db, "--resource", "no-such-uuid")
	if code != 1 || !strings.Contains(errOut, "no published resource") {
		t.Fatalf("unknown resource: exit %d %q", code, errOut)
	}
}
