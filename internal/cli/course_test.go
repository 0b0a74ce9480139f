package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, args)
	return out.String(), errb.String(), code
}

// newDB is a fresh database made as an operator makes one, with ltipub migrate.
func newDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "ltipub.db")
	if _, errOut, code := run(t, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, errOut)
	}
	return db
}

func TestCourseImportExport(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	out, errOut, code := run(t, "course", "import", "--db", db, "--json", "../../examples/course.json")
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	var res struct {
		CourseID   int64 `json:"id"`
		Activities []struct {
			ID   int64  `json:"id"`
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"activities"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.CourseID == 0 || len(res.Activities) != 3 ||
		res.Activities[1].Type != "quiz" || res.Activities[1].ID == 0 || res.Activities[2].Name != "Observation report" {
		t.Fatalf("import --json printed %q (%v)", out, err)
	}
	out, errOut, code = run(t, "course", "export", "--db", db, "1")
	if code != 0 || !strings.Contains(out, `"format": "ltipub-course/1"`) || !strings.Contains(out, `"Solar System quiz"`) {
		t.Fatalf("export: exit %d %s %s", code, out, errOut)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	data, _ := os.ReadFile("../../examples/course.json")
	_ = os.WriteFile(bad, bytes.Replace(data, []byte(`"grading_method": "highest"`), []byte(`"grading_method": "best"`), 1), 0o644)
	_, errOut, code = run(t, "course", "import", "--db", db, bad)
	if code != 1 || !strings.Contains(errOut, "activities[1].grading_method") || !strings.Contains(errOut, "nothing was imported") {
		t.Fatalf("bad file: exit %d, %q", code, errOut)
	}
	if _, errOut, code = run(t, "course", "export", "--db", db, "99"); code != 1 || !strings.Contains(errOut, "no course with id 99") {
		t.Fatalf("unknown id: exit %d, %q", code, errOut)
	}
}
