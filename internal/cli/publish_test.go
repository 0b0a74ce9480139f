package cli

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestPublishAndList(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "ltipub.db")
	out, errOut, code := run(t, "course", "import", "--db", db, "--json", "../../examples/course.json")
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	var imported struct {
		CourseID   int64 `json:"course_id"`
		Activities []struct {
			ID   int64  `json:"id"`
			Type string `json:"type"`
		} `json:"activities"`
	}
	if err := json.Unmarshal([]byte(out), &imported); err != nil {
		t.Fatal(err)
	}
	quiz := imported.Activities[1].ID
	course := itoa(imported.CourseID)

	out, errOut, code = run(t, "publish", "--db", db, "--base-url", "https://tool.example/", "--course", course,
		"--activity", itoa(quiz), "--grade-sync", "--student-mode", "prompt", "--json")
	if code != 0 {
		t.Fatalf("publish: exit %d: %s", code, errOut)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("publish --json printed %q: %v", out, err)
	}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	if len(got) != 3 || !uuidRE.MatchString(got["uuid"]) || got["launch_url"] != "https://tool.example/lti/launch" || got["custom"] != "id="+got["uuid"] {
		t.Fatalf("publish --json: %v", got)
	}

	// Without --json: the same three things, for people.
	out, errOut, code = run(t, "publish", "--db", db, "--base-url", "https://tool.example", "--course", course, "--name", "Whole course")
	if code != 0 || !strings.Contains(out, "launch URL         https://tool.example/lti/launch") || !strings.Contains(out, "custom properties  id=") {
		t.Fatalf("publish: exit %d %s %s", code, out, errOut)
	}

	out, errOut, code = run(t, "published", "list", "--db", db, "--base-url", "https://tool.example", "--course", course, "--json")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	var list []struct {
		UUID        string `json:"uuid"`
		CourseID    int64  `json:"course_id"`
		ActivityID  int64  `json:"activity_id"`
		Name        string `json:"name"`
		Enabled     bool   `json:"enabled"`
		GradeSync   bool   `json:"grade_sync"`
		MemberSync  bool   `json:"member_sync"`
		StudentMode string `json:"student_mode"`
		TeacherMode string `json:"teacher_mode"`
		Custom      string `json:"custom"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 {
		t.Fatalf("list --json printed %q (%v)", out, err)
	}
	q := list[0]
	if q.UUID != got["uuid"] || q.ActivityID != quiz || !q.Enabled || !q.GradeSync || q.MemberSync || q.StudentMode != "prompt" ||
		q.TeacherMode != "prompt" || q.Custom != "id="+q.UUID {
		t.Fatalf("listed %+v", q)
	}
	// --grade-sync is opt-in on the command line.
	if list[1].Name != "Whole course" || list[1].GradeSync || list[1].ActivityID != 0 {
		t.Fatalf("listed %+v", list[1])
	}
	out, _, code = run(t, "published", "list", "--db", db)
	if code != 0 || !strings.Contains(out, got["custom"]) || !strings.Contains(out, "Whole course") {
		t.Fatalf("list: exit %d %s", code, out)
	}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no course", []string{"publish", "--db", db}, 2, "give the course"},
		{"unknown course", []string{"publish", "--db", db, "--course", "99"}, 1, "--course: there is no course 99"},
		{"foreign activity", []string{"publish", "--db", db, "--course", course, "--activity", "999"}, 1, "--activity:"},
		{"bad mode", []string{"publish", "--db", db, "--course", course, "--teacher-mode", "maybe"}, 1, `--teacher-mode: "maybe" is not a provisioning mode`},
		{"list unknown course", []string{"published", "list", "--db", db, "--course", "99"}, 1, "--course: there is no course 99"},
	}
	for _, tt := range tests {
		_, errOut, code := run(t, tt.args...)
		if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
			t.Errorf("%s: exit %d %q, want %d with %q", tt.name, code, errOut, tt.wantCode, tt.wantErr)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
