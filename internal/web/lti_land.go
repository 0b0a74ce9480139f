package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti"
)

// Session keys of launched sessions.
const (
	// sessionScope lists what a launched session may reach: "c<id>" for a course, "a<id>" for an activity.
	sessionScope = "lti_scope"
	// sessionEmbedded asks for the embedded layout on every page of the session.
	sessionEmbedded = "lti_embedded"
	// sessionReturnURL is the platform's launch_presentation.return_url.
	sessionReturnURL = "lti_return_url"
	// sessionReturnName names the platform for the return link.
	sessionReturnName = "lti_return_name"
	// sessionPending holds a validated launch waiting for the person's account choice.
	sessionPending = "lti_pending_launch"
)

// pendingLaunch is a validated launch kept in the session while the person chooses an account. It holds only
// validated claims: the id_token itself is never stored.
type pendingLaunch struct {
	RegistrationID int64
	LogID          int64
	Message        *lti.Message
}

// landResourceLink lands a validated resource link launch: provision, enrol, contain, and go to the resource.
func (s *Server) landResourceLink(w http.ResponseWriter, r *http.Request, l *launch.Launch, choice publish.Choice) {
	pl := publish.Launch{Message: l.Message, Registration: l.Registration}
	landing, err := s.cfg.Publish.Land(r.Context(), pl, choice)
	var need *publish.NeedAccount
	switch {
	case errors.As(err, &need):
		if err := s.renewSession(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
		b, _ := json.Marshal(pendingLaunch{RegistrationID: l.Registration.ID, LogID: l.LogID, Message: l.Message})
		s.sessions.Put(r.Context(), sessionPending, string(b))
		s.setLaunchPresentation(r.Context(), l.Message, l.Registration.PlatformName)
		s.afterLaunch(w, r, l, "/launch/account", false)
		return
	case err != nil:
		s.recordLandRefusal(r.Context(), l, err)
		s.landRefused(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "LTI launch landed", slog.Int64("user_id", landing.User.ID), slog.String("resource", landing.Resource.UUID),
		slog.Bool("new_account", landing.NewAccount), slog.Bool("new_enrolment", landing.NewEnrolment), slog.String("role", string(landing.Role)))
	s.noteLaunchWarnings(r.Context(), l.LogID, landing, false)
	if err := s.startLaunchedSession(r.Context(), landing, l.Message, l.Registration.PlatformName); err != nil {
		s.fail(w, r, err)
		return
	}
	s.afterLaunch(w, r, l, landingPath(landing), true)
}

func landingPath(l publish.Landing) string {
	if l.ActivityID != 0 {
		return "/activities/" + strconv.FormatInt(l.ActivityID, 10)
	}
	return "/courses/" + strconv.FormatInt(l.CourseID, 10)
}

func (s *Server) landRefused(w http.ResponseWriter, r *http.Request, err error) {
	var rf *publish.Refusal
	if errors.As(err, &rf) {
		s.log.WarnContext(r.Context(), "LTI launch reached no resource", slog.String("code", rf.Code), slog.String("reason", rf.Description))
		s.renderProblem(w, r, &Problem{Status: rf.Status, Code: rf.Code, Title: "This resource cannot be opened",
			Cause: rf.Description, Fix: rf.Fix})
		return
	}
	s.fail(w, r, err)
}

func (s *Server) renewSession(ctx context.Context) error {
	// A launch starts a new session token, so that a session fixed before the launch is useless.
	return s.sessions.RenewToken(ctx)
}

// startLaunchedSession signs the person in, contained to what they launched (widening an earlier launch's scope
// when the same account launches something else in the same browser).
func (s *Server) startLaunchedSession(ctx context.Context, l publish.Landing, m *lti.Message, platform string) error {
	prevUser := s.sessions.GetInt64(ctx, sessionUserID)
	prevScope := s.sessions.GetString(ctx, sessionScope)
	if err := s.renewSession(ctx); err != nil {
		return err
	}
	entry := "c" + strconv.FormatInt(l.CourseID, 10)
	if l.ActivityID != 0 {
		entry = "a" + strconv.FormatInt(l.ActivityID, 10)
	}
	scope := entry
	if prevUser == l.User.ID && prevScope != "" && !scopeHas(prevScope, entry) {
		scope = prevScope + " " + entry
	} else if prevUser == l.User.ID && prevScope != "" {
		scope = prevScope
	}
	s.sessions.Remove(ctx, sessionPending)
	s.sessions.Put(ctx, sessionUserID, l.User.ID)
	s.sessions.Put(ctx, sessionScope, scope)
	s.setLaunchPresentation(ctx, m, platform)
	return nil
}

func (s *Server) setLaunchPresentation(ctx context.Context, m *lti.Message, platform string) {
	s.sessions.Put(ctx, sessionEmbedded, wantsEmbedded(m))
	if m.LaunchPresentation != nil && strings.HasPrefix(m.LaunchPresentation.ReturnURL, "http") {
		s.sessions.Put(ctx, sessionReturnURL, m.LaunchPresentation.ReturnURL)
		if platform == "" {
			platform = "the course"
		}
		s.sessions.Put(ctx, sessionReturnName, platform)
	} else {
		s.sessions.Remove(ctx, sessionReturnURL)
	}
}

func scopeHas(scope, entry string) bool {
	for _, e := range strings.Fields(scope) {
		if e == entry {
			return true
		}
	}
	return false
}

// launchScope is what a launched session may reach.
type launchScope struct {
	courses    map[int64]bool
	activities map[int64]bool
}

func parseScope(s string) *launchScope {
	if s == "" {
		return nil
	}
	sc := &launchScope{courses: map[int64]bool{}, activities: map[int64]bool{}}
	for _, e := range strings.Fields(s) {
		id, err := strconv.ParseInt(e[1:], 10, 64)
		if err != nil {
			continue
		}
		if e[0] == 'c' {
			sc.courses[id] = true
		} else {
			sc.activities[id] = true
		}
	}
	return sc
}

// contain refuses every request of a launched session that leaves what it launched: the dashboard, other
// courses, other activities, site pages. This is the cure for "a launched user can browse the whole site".
func (s *Server) contain(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, _ := r.Context().Value(scopeKey).(*launchScope)
		if sc == nil || s.allowedInScope(r, sc) {
			next.ServeHTTP(w, r)
			return
		}
		s.renderProblem(w, r, &Problem{Status: http.StatusForbidden, Code: "outside_launch",
			Title: "Not part of what you launched",
			Cause: "You came here from your learning platform, and this session is limited to the course or activity you opened there.",
			Fix:   "Go back to your platform and open the other resource from there."})
	})
}

func (s *Server) allowedInScope(r *http.Request, sc *launchScope) bool {
	p := r.URL.Path
	switch {
	case p == "/logout" || strings.HasPrefix(p, "/lti/") || strings.HasPrefix(p, "/launch/"):
		return true
	case strings.HasPrefix(p, "/courses/"):
		id, ok := pathID(p, "/courses/")
		return ok && sc.courses[id]
	case strings.HasPrefix(p, "/activities/"):
		id, ok := pathID(p, "/activities/")
		if !ok {
			return false
		}
		if sc.activities[id] {
			return true
		}
		if len(sc.courses) == 0 {
			return false
		}
		a, err := s.cfg.Courses.Store.ActivityByID(r.Context(), id)
		return err == nil && sc.courses[a.CourseID]
	}
	return false
}

func pathID(path, prefix string) (int64, bool) {
	rest := strings.TrimPrefix(path, prefix)
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}

// The account choice of the prompting provisioning modes.

type accountChoicePage struct {
	Page
	// Action is where the choice forms post: /launch/account for LTI 1.3, /launch/legacy/account for 1.1.
	Action       string
	ResourceName string
	CanCreate    bool
	Username     string
	Error        string
}

func (s *Server) pendingLaunch(r *http.Request) (*pendingLaunch, error) {
	return s.readPending(r, sessionPending, &Problem{Status: http.StatusBadRequest, Code: "no_pending_launch", Title: "No launch in progress",
		Cause: "This page continues a launch from your platform, but this browser has none waiting (it may have expired, or cookies may be blocked).",
		Fix:   "Go back to your platform and open the resource again."})
}

// readPending decodes the validated launch kept under key in the session; none there is the given problem.
func (s *Server) readPending(r *http.Request, key string, none *Problem) (*pendingLaunch, error) {
	raw := s.sessions.GetString(r.Context(), key)
	if raw == "" {
		return nil, none
	}
	var pl pendingLaunch
	if err := json.Unmarshal([]byte(raw), &pl); err != nil {
		return nil, fmt.Errorf("read the launch waiting in the session (%s): %w", key, err)
	}
	return &pl, nil
}

func (s *Server) resumeLaunch(r *http.Request, pl *pendingLaunch) (*launch.Launch, publish.Resource, error) {
	reg, err := s.cfg.Launches.Registrations.Registration(r.Context(), pl.RegistrationID)
	if err != nil {
		return nil, publish.Resource{}, fmt.Errorf("load registration of the pending launch: %w", err)
	}
	l := &launch.Launch{Message: pl.Message, Registration: reg, LogID: pl.LogID}
	res, err := s.cfg.Publish.FindResource(r.Context(), publish.Launch{Message: pl.Message, Registration: reg})
	return l, res, err
}

func (s *Server) accountChoice(w http.ResponseWriter, r *http.Request) {
	pl, err := s.pendingLaunch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, res, err := s.resumeLaunch(r, pl)
	if err != nil {
		s.landRefused(w, r, err)
		return
	}
	mode := res.StudentMode
	if pl.Message.Roles.IsTeacherLike() {
		mode = res.TeacherMode
	}
	s.render(w, r, http.StatusOK, "lti_account", &accountChoicePage{Page: Page{Title: "Your account"}, Action: "/launch/account",
		ResourceName: res.Name, CanCreate: mode == publish.ModePrompt})
}

// accountSignIn links an existing account (after checking its password) and finishes the launch.
func (s *Server) accountSignIn(w http.ResponseWriter, r *http.Request) {
	pl, err := s.pendingLaunch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, res, err := s.resumeLaunch(r, pl)
	if err != nil {
		s.landRefused(w, r, err)
		return
	}
	username := r.PostFormValue("username")
	u, err := s.cfg.Accounts.Authenticate(r.Context(), username, r.PostFormValue("password"))
	if status, msg, ok := signInRefused(err); ok {
		mode := res.StudentMode
		if pl.Message.Roles.IsTeacherLike() {
			mode = res.TeacherMode
		}
		s.render(w, r, status, "lti_account", &accountChoicePage{Page: Page{Title: "Your account"}, Action: "/launch/account",
			ResourceName: res.Name, CanCreate: mode == publish.ModePrompt, Username: username, Error: msg})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.landResourceLink(w, r, l, publish.Choice{Existing: &u})
}

// accountCreate makes a new account for the person (prompt mode only) and finishes the launch.
func (s *Server) accountCreate(w http.ResponseWriter, r *http.Request) {
	pl, err := s.pendingLaunch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, _, err := s.resumeLaunch(r, pl)
	if err != nil {
		s.landRefused(w, r, err)
		return
	}
	s.landResourceLink(w, r, l, publish.Choice{CreateNew: true})
}
