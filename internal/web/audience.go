package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/lti"
)

// A refusal is written for whoever can fix it (its audience). The person who sees the page is often someone
// else: a student launching from a course whose deployment the admin never added must not be told to "add it
// under the registration's Deployments tab". audience rewrites a Problem for its viewer.

// learnerAskFix is what a learner reads when only an administrator can fix the refusal.
const learnerAskFix = "Ask your teacher or the site's administrator: the tool is not set up correctly for this course yet. " +
	"Give them the request id below and the note for them."

// teacherAskFix is what a teacher reads then: they cannot change the registration either, but can pass it on.
const teacherAskFix = "Ask the site's administrator to fix the tool's registration, and give them the request id below " +
	"and the note for administrators."

// problemAudience is who can fix the error's refusal; "" when the error says nothing about it.
func problemAudience(err error) refusal.Audience {
	var rf *refusal.Refusal
	var le *lti.Error
	switch {
	case errors.As(err, &rf):
		return rf.Audience
	case errors.As(err, &le):
		switch le.Code {
		// The person launching can fix these: launch again, in a new window, one at a time.
		case lti.CodeStateMissing, lti.CodeStateUnknown, lti.CodeStateExpired, lti.CodeStateCookieMissing,
			lti.CodeStateCookieMismatch, lti.CodeStateUsed, lti.CodeNonceMismatch, lti.CodeNonceReused:
			return refusal.Learner
		}
		return refusal.Admin // the registration, the platform's configuration or a clock
	}
	return ""
}

// viewerOf tells who is looking at a refused request, as far as ltipub can: a signed-in site administrator, or
// the roles the launch itself carries (the id_token of an LTI 1.3 launch, the roles field of an LTI 1.1 one).
// The roles are read without checking the signature: they only choose the wording of an error page, never
// grant anything, and the admin's wording holds nothing secret. "" when nothing says.
func viewerOf(r *http.Request) refusal.Audience {
	if u := currentUser(r); u != nil && u.IsAdmin {
		return refusal.Admin
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/lti/") {
		return ""
	}
	var roles []string
	if tok := r.PostFormValue("id_token"); tok != "" {
		roles = idTokenRoles(tok)
	} else if v := r.PostFormValue("roles"); v != "" {
		roles = strings.Split(v, ",")
	}
	if len(roles) == 0 {
		return ""
	}
	viewer := refusal.Learner
	for _, role := range roles {
		role = strings.TrimSpace(role)
		switch {
		case strings.HasSuffix(role, "#Administrator") || role == "Administrator" || strings.HasSuffix(role, "/Administrator"):
			return refusal.Admin
		case strings.HasSuffix(role, "#Instructor") || role == "Instructor" || strings.HasSuffix(role, "/Instructor") ||
			strings.HasSuffix(role, "#ContentDeveloper") || role == "ContentDeveloper":
			viewer = refusal.Teacher
		}
	}
	return viewer
}

// idTokenRoles reads the roles claim of a JWT's payload; nil when it has none or is not a JWT.
func idTokenRoles(tok string) []string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var c struct {
		Roles []string `json:"https://purl.imsglobal.org/spec/lti/claim/roles"`
	}
	if json.Unmarshal(b, &c) != nil {
		return nil
	}
	return c.Roles
}

// Whom the administrator's fix is for, as the note under a rewritten fix names them.
const (
	adminFixForTeacher = "the site's administrator"
	adminFixForLearner = "your teacher or the site's administrator"
)

// forViewer rewrites p, a refusal only an administrator can fix, for a viewer who is not one: "What to do" says
// whom to ask, and the fix follows as a note labelled for them, to pass on (a learner cannot act on "add the
// deployment under the registration's Deployments tab", but the person they ask can). A refused login carries no
// roles: ltipub cannot tell who is looking, and words it for a learner.
func forViewer(p *Problem, audience, viewer refusal.Audience) {
	if audience != refusal.Admin || viewer == refusal.Admin || p.Fix == "" {
		return
	}
	p.AdminFix = p.Fix
	if viewer == refusal.Teacher {
		p.Fix, p.AdminFixFor = teacherAskFix, adminFixForTeacher
		return
	}
	p.Fix, p.AdminFixFor = learnerAskFix, adminFixForLearner
}
