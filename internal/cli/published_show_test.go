package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPublishedShowLegacy(t *testing.T) {
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
	out, errOut, code = run(t, "published", "show", pub["uuid"].(string), "--db", db, "--base-url", "https://tool.example/", "--json")
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, errOut)
	}
	var got struct {
		UUID   string `json:"uuid"`
		Legacy struct {
			LaunchURL    string `json:"launch_url"`
			CartridgeURL string `json:"cartridge_url"`
			Secret       string `json:"secret"`
			Registration string `json:"registration_url"`
		} `json:"legacy"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if got.UUID != pub["uuid"].(string) || got.Legacy.LaunchURL != "https://tool.example/lti/legacy/"+pub["uuid"].(string) ||
		got.Legacy.CartridgeURL != "https://tool.example/lti/legacy/"+pub["uuid"].(string)+"/cartridge.xml" || len(got.Legacy.Secret) < 24 ||
		!strings.HasPrefix(got.Legacy.Registration, "https://tool.example/lti/legacy/"+pub["uuid"].(string)+"/register/") {
		t.Fatalf("show --json: %+v", got)
	}
	if _, errOut, code := run(t, "published", "show", "nope", "--db", db); code == 0 || !strings.Contains(errOut, "no published resource") {
		t.Fatalf("unknown uuid: exit %d %s", code, errOut)
	}
}
