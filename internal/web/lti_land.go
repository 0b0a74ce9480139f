package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/logging"
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

// prevSession is what this browser's session held before the launch (a launch widens the scope of the same
// account's earlier launch).
func (s *Server) prevSession(r *http.Request) launch.Session {
	return launch.Session{UserID: s.sessions.GetInt64(r.Context(), sessionUserID), Scope: s.sessions.GetString(r.Context(), sessionScope)}
}

// outcome renders what a launch (or its resumption) decided: the session it starts and where the browser goes;
// or its refusal.
func (s *Server) outcome(w http.ResponseWriter, r *http.Request, out *launch.Outcome, err error) {
	if err != nil {
		if out != nil && out.Launch != nil && out.Launch.Message.MessageType == lti.MessageDeepLinkingRequest {
			s.deepLinkRefused(w, r, out.Launch.Message, out.Launch.Registration.ClientID, err)
			return
		}
		s.fail(w, r, err)
		return
	}
	if err := s.startSession(r.Context(), out); err != nil {
		s.fail(w, r, err)
		return
	}
	if out.Kind == launch.Landed && out.Mixed != "" {
		s.render(w, r, http.StatusOK, "lti_legacy_mixed", &legacyMixedPage{Page: Page{Title: s.t(r, "platforms.mixed.title"), Embedded: out.Session.Embedded},
			Warning: s.mixedWarning(r, out.Mixed), Next: out.To})
		return
	}
	s.afterLaunch(w, r, out)
}

// startSession carries out what a launch decided for this browser's session. A launch starts a new session
// token, so that a session fixed before the launch is useless; a session already signed in to the same account
// keeps its token (it was renewed when that account signed in, so nobody fixed it).
func (s *Server) startSession(ctx context.Context, out *launch.Outcome) error {
	same := out.Kind == launch.Landed && out.Session.UserID != 0 && s.sessions.GetInt64(ctx, sessionUserID) == out.Session.UserID
	if !same {
		if err := s.sessions.RenewToken(ctx); err != nil {
			return err
		}
	}
	switch out.Kind {
	case launch.Landed:
		s.sessions.Remove(ctx, sessionPending)
		s.sessions.Remove(ctx, sessionPendingLegacy)
		s.sessions.Put(ctx, sessionUserID, out.Session.UserID)
		s.sessions.Put(ctx, sessionScope, out.Session.Scope)
	case launch.ChooseAccount:
		key := sessionPending
		if out.Pending.Legacy != nil {
			key = sessionPendingLegacy
		}
		b, err := json.Marshal(out.Pending)
		if err != nil {
			return err
		}
		s.sessions.Put(ctx, key, string(b))
	case launch.SelectContent:
		b, err := json.Marshal(out.Pending)
		if err != nil {
			return err
		}
		s.sessions.Put(ctx, sessionDeepLink, string(b))
		s.sessions.Remove(ctx, sessionPending)
		if out.Session.UserID != 0 {
			s.sessions.Put(ctx, sessionUserID, out.Session.UserID)
		} else {
			s.sessions.Remove(ctx, sessionUserID)
		}
		s.sessions.Put(ctx, sessionScope, out.Session.Scope)
	}
	s.sessions.Put(ctx, sessionEmbedded, out.Session.Embedded)
	if out.Session.Locale != "" {
		s.sessions.Put(ctx, sessionLocale, out.Session.Locale)
	} else {
		s.sessions.Remove(ctx, sessionLocale)
	}
	if out.Session.ReturnURL != "" {
		s.sessions.Put(ctx, sessionReturnURL, out.Session.ReturnURL)
		s.sessions.Put(ctx, sessionReturnName, out.Session.ReturnName)
	} else {
		s.sessions.Remove(ctx, sessionReturnURL)
	}
	return nil
}

// launchScope is what a launched session may reach.
type launchScope struct {
	courses    map[int64]bool
	activities map[int64]bool
	// reviews are the (activity, learner) pairs of submission reviews: only that learner's work in that activity.
	reviews map[[2]int64]bool
}

func parseScope(s string) *launchScope {
	if s == "" {
		return nil
	}
	sc := &launchScope{courses: map[int64]bool{}, activities: map[int64]bool{}}
	for _, e := range strings.Fields(s) {
		if aid, uid, ok := launch.ParseReviewEntry(e); ok {
			if sc.reviews == nil {
				sc.reviews = map[[2]int64]bool{}
			}
			sc.reviews[[2]int64{aid, uid}] = true
			continue
		}
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
		sc := vals(r.Context()).scope
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
	case strings.HasPrefix(p, "/review/"):
		aid, uid, ok := reviewPath(p)
		return ok && sc.reviews[[2]int64{aid, uid}]
	case strings.HasPrefix(p, "/submission-files/") && len(sc.reviews) > 0:
		// A reviewer may download the reviewed learner's files, and no one else's.
		id, ok := pathID(p, "/submission-files/")
		if !ok {
			return false
		}
		f, err := s.cfg.Courses.Store.SubmissionFileData(r.Context(), id)
		return err == nil && sc.reviews[[2]int64{f.ActivityID, f.UserID}]
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

var errNoPendingLaunch = &Problem{Status: http.StatusBadRequest, Code: "no_pending_launch", Title: "No launch in progress",
	Cause: "This page continues a launch from your platform, but this browser has none waiting (it may have expired, or cookies may be blocked).",
	Fix:   "Go back to your platform and open the resource again."}

// readPending decodes the validated launch kept under key in the session; none there is the given problem.
func (s *Server) readPending(r *http.Request, key string, none *Problem) (*launch.Pending, error) {
	raw := s.sessions.GetString(r.Context(), key)
	if raw == "" {
		return nil, none
	}
	var pl launch.Pending
	if err := json.Unmarshal([]byte(raw), &pl); err != nil || pl.Message == nil {
		return nil, fmt.Errorf("read the launch waiting in the session (%s): %v", key, err)
	}
	return &pl, nil
}

// The account choice of the prompting provisioning modes, for LTI 1.3 (/launch/account) and 1.1
// (/launch/legacy/account) launches alike.

func (s *Server) accountRoutes(app *http.ServeMux, prefix, key string) {
	app.Handle("GET "+prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.accountChoice(w, r, prefix, key) }))
	app.Handle("POST "+prefix+"/signin", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.accountSignIn(w, r, prefix, key) }))
	app.Handle("POST "+prefix+"/new", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.accountCreate(w, r, key) }))
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, status int, action string, p *launch.Pending, c launch.Choice, username, msg string) {
	s.render(w, r, status, "lti_account", &accountChoicePage{Page: Page{Title: s.t(r, "web_titles.your_account"), Embedded: p.Legacy != nil && launch.WantsEmbedded(p.Message)},
		Action: action, ResourceName: c.Resource.Name, CanCreate: c.CanCreate, Username: username, Error: msg})
}

func (s *Server) accountChoice(w http.ResponseWriter, r *http.Request, action, key string) {
	p, err := s.readPending(r, key, errNoPendingLaunch)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.cfg.Launches.AccountChoice(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.accountPage(w, r, http.StatusOK, action, p, c, "", "")
}

// accountSignIn links an existing account (after checking its password) and finishes the launch.
func (s *Server) accountSignIn(w http.ResponseWriter, r *http.Request, action, key string) {
	p, err := s.readPending(r, key, errNoPendingLaunch)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	username := r.PostFormValue("username")
	u, err := s.cfg.Accounts.Authenticate(r.Context(), username, r.PostFormValue("password"))
	if status, msg, ok := signInRefused(err); ok {
		c, cerr := s.cfg.Launches.AccountChoice(r.Context(), p)
		if cerr != nil {
			s.fail(w, r, cerr)
			return
		}
		s.accountPage(w, r, status, action, p, c, username, msg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.cfg.Launches.Resume(r.Context(), p, publish.Choice{Existing: &u}, s.prevSession(r), logging.RequestID(r.Context()))
	s.outcome(w, r, out, err)
}

// accountCreate makes a new account for the person (prompt mode only) and finishes the launch.
func (s *Server) accountCreate(w http.ResponseWriter, r *http.Request, key string) {
	p, err := s.readPending(r, key, errNoPendingLaunch)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.cfg.Launches.Resume(r.Context(), p, publish.Choice{CreateNew: true}, s.prevSession(r), logging.RequestID(r.Context()))
	s.outcome(w, r, out, err)
}
