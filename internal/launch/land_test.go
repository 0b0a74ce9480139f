package launch

import (
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti"
)

func TestWiden(t *testing.T) {
	landing := func(user, courseID, activityID int64) publish.Landing {
		return publish.Landing{User: account.User{ID: user}, CourseID: courseID, ActivityID: activityID}
	}
	tests := []struct {
		name string
		prev Session
		l    publish.Landing
		want string
	}{
		{"new session, an activity", Session{}, landing(1, 2, 3), "a3"},
		{"new session, a course", Session{}, landing(1, 2, 0), "c2"},
		{"same account, something else", Session{UserID: 1, Scope: "a3"}, landing(1, 2, 0), "a3 c2"},
		{"same account, the same again", Session{UserID: 1, Scope: "a3 c2"}, landing(1, 2, 0), "a3 c2"},
		{"another account starts afresh", Session{UserID: 9, Scope: "a3"}, landing(1, 2, 0), "c2"},
		{"an unscoped session is not widened", Session{UserID: 1}, landing(1, 2, 0), "c2"},
		{"a content selection is not kept", Session{UserID: 1, Scope: ScopeSelection}, landing(1, 2, 0), "c2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := widen(tt.prev, tt.l); got != tt.want {
				t.Errorf("widen(%+v) = %q, want %q", tt.prev, got, tt.want)
			}
		})
	}
}

func TestPresentation(t *testing.T) {
	m := &lti.Message{LaunchPresentation: &lti.LaunchPresentation{DocumentTarget: "iframe", ReturnURL: "https://lms.example/back"}}
	if got := presentation(m, ""); !got.Embedded || got.ReturnURL != "https://lms.example/back" || got.ReturnName != "the course" {
		t.Errorf("iframe with a return URL: %+v", got)
	}
	m = &lti.Message{LaunchPresentation: &lti.LaunchPresentation{DocumentTarget: "window", ReturnURL: "javascript:alert(1)"}}
	if got := presentation(m, "Moodle"); got.Embedded || got.ReturnURL != "" {
		t.Errorf("a window with a return URL that is not http(s): %+v", got)
	}
	m = &lti.Message{CustomParams: map[string]string{"force_embed": "1"}}
	if got := presentation(m, "Moodle"); !got.Embedded {
		t.Errorf("force_embed=1: %+v", got)
	}
}
