package cli

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestPublishAndList(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	out, errOut, code := run(t, "course", "import", "--db", db, "--json", "../../examples/course.json")
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	var imported struct {
		CourseID   int64 `json:"id"`
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
	var pub resourceJSON
	if err := json.Unmarshal([]byte(out), &pub); err != nil {
		t.Fatalf("publish --json printed %q: %v", out, err)
	}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	if !uuidRE.MatchString(pub.UUID) || pub.LaunchURL != "https://tool.example/lti/launch" || pub.Custom != "id="+pub.UUID ||
		pub.Legacy.LaunchURL != "https://tool.example/lti/legacy/"+pub.UUID || !pub.GradeSync {
		t.Fatalf("publish --json: %+v", pub)
	}
	got := map[string]string{"uuid": pub.UUID, "custom": pub.Custom}

	// Without --json: the same three things, for people.
	out, errOut, code = run(t, "publish", "--db", db, "--base-url", "https://tool.example", "--course", course, "--name", "Whole course")
	if code != 0 || !strings.Contains(out, "launch URL         https://tool.example/lti/launch") || !strings.Contains(out, "custom properties  id=") {
		t.Fatalf("publish: exit %d %s %s", code, out, errOut)
	}

	out, errOut, code = run(t, "published", "list", "--db", db, "--base-url", "https://tool.example", "--course", course, "--json")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	var list []resourceJSON
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 {
		t.Fatalf("list --json printed %q (%v)", out, err)
	}
	// One shape whichever command prints it.
	if list[0] != pub {
		t.Errorf("published list and publish print the resource differently:\n%+v\n%+v", list[0], pub)
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
