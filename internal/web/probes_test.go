package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/publish"
)

// TestProbesAreQuiet: Moodle's GET of the tool URL on every activity save, a person opening a launch URL, and a
// browser's /favicon.ico get a useful answer, and leave no WARN in the log, only debug lines.
func TestProbesAreQuiet(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	inst := apptest.Start(t, apptest.Options{Logs: logs})
	res := inst.Publish(t, publish.NewInput(inst.ExampleCourse(t, "").Course.ID))
	c := inst.Client(t)
	tests := []struct {
		path, allow, want string
		status            int
	}{
		{path: "/lti/launch", status: http.StatusMethodNotAllowed, allow: "POST", want: "LTI 1.3 launch URL"},
		{path: "/lti/deeplink", status: http.StatusMethodNotAllowed, allow: "POST", want: "deep linking URL"},
		{path: "/lti/legacy/" + res.UUID, status: http.StatusOK, want: "LTI 1.1 launch URL"},
	}
	for _, tt := range tests {
		r := inst.Get(t, c, tt.path)
		if r.StatusCode != tt.status || r.Header.Get("Allow") != tt.allow || !strings.Contains(r.Body, tt.want) ||
			!strings.Contains(r.Body, "What to do:") {
			t.Errorf("GET %s: %d Allow=%q\n%s", tt.path, r.StatusCode, r.Header.Get("Allow"), r.Body)
		}
	}
	fav := inst.Get(t, c, "/favicon.ico")
	if fav.StatusCode != http.StatusOK || fav.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(fav.Body, "\x89PNG") {
		t.Errorf("favicon: %d %s", fav.StatusCode, fav.Header.Get("Content-Type"))
	}
	// A page names its icon, so browsers need not guess.
	if home := inst.Get(t, c, "/login"); !strings.Contains(home.Body, `rel="icon"`) {
		t.Error("pages do not link their icon")
	}

	out := logs.String()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			t.Errorf("a probe logged above info: %s", line)
		}
		if strings.Contains(line, "/favicon.ico") {
			t.Errorf("the favicon is access-logged: %s", line)
		}
	}
	for _, tt := range tests {
		if !strings.Contains(out, `level=DEBUG msg="GET of an LTI endpoint answered with its description" path=`+tt.path) {
			t.Errorf("no debug line for GET %s in:\n%s", tt.path, out)
		}
		if !strings.Contains(out, `level=DEBUG msg=request method=GET path=`+tt.path) {
			t.Errorf("the access-log line for GET %s is not at debug level:\n%s", tt.path, out)
		}
	}
	// The check must be able to fail: a real refusal still logs a WARN.
	inst.Get(t, c, "/lti/nowhere")
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Error("an unknown LTI endpoint no longer logs a WARN: the log capture sees nothing")
	}
}
