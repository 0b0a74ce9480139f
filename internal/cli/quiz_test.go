package cli

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const moodleData = "../course/moodle/testdata/"

func TestMoodleImportCommands(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "ltipub.db")
	if _, errOut, code := run(t, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	out, errOut, code := run(t, "course", "import", "--db", db, "--json", moodleData+"PHYS101.mbz")
	if code != 0 {
		t.Fatalf("import the backup: exit %d: %s", code, errOut)
	}
	var res struct {
		CourseID   int64 `json:"course_id"`
		Activities []struct {
			ID   int64  `json:"id"`
			Type string `json:"type"`
		} `json:"activities"`
		Skipped []struct{ Name, Type string } `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Activities) != 3 || len(res.Skipped) != 3 ||
		res.Skipped[0].Type != "label" || res.Skipped[1].Type != "url" || res.Skipped[2].Name != "Unit 2 Discussion: Forces in Everyday Life" {
		t.Fatalf("course import --json printed %s (%v)", out, err)
	}
	if _, errOut, code := run(t, "course", "import", "--db", db, moodleData+"PHYS101.mbz"); code != 1 ||
		!strings.Contains(errOut, "change the course's short name in Moodle") {
		t.Fatalf("second import: exit %d %s", code, errOut)
	}
	// A course file still says it has nothing skipped.
	out, _, code = run(t, "course", "import", "--db", db, "--json", "../../examples/course.json")
	if code != 0 || !strings.Contains(out, `"skipped":[]`) {
		t.Fatalf("course file import: %d %s", code, out)
	}

	out, errOut, code = run(t, "quiz", "import", "--db", db, "--course", "1", "--json", moodleData+"PHYS101-questions.xml")
	if code != 0 || !strings.Contains(out, `"format":"Moodle XML","questions":7`) {
		t.Fatalf("quiz import (new quiz): exit %d %s %s", code, out, errOut)
	}
	quiz := res.Activities[1].ID
	out, errOut, code = run(t, "quiz", "import", "--db", db, "--course", "1", "--quiz", strconv.FormatInt(quiz, 10), moodleData+"PHYS101-questions.gift.txt")
	if code != 0 || !strings.Contains(out, "now has 14 question(s), from GIFT") {
		t.Fatalf("quiz import (into a quiz): exit %d %s %s", code, out, errOut)
	}
	if _, errOut, code := run(t, "quiz", "import", "--db", db, moodleData+"PHYS101-questions.xml"); code != 2 || !strings.Contains(errOut, "--course") {
		t.Fatalf("without --course: exit %d %s", code, errOut)
	}
}
