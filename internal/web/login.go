package web

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/i18n"
)

// signInRefused turns a refused password check into what the form shows: its status and message. ok is false
// for other errors, which are the server's.
func signInRefused(err error) (status int, msg string, ok bool) {
	switch {
	case errors.Is(err, account.ErrBadCredentials):
		return http.StatusUnauthorized, "The username or password is wrong. Check both and try again; passwords are case-sensitive.", true
	case errors.Is(err, account.ErrSuspended):
		return http.StatusForbidden, "This account is suspended. Ask a site administrator to lift the suspension.", true
	case errors.Is(err, account.ErrTooManyAttempts):
		wait := "a while"
		var te *account.ThrottledError
		if errors.As(err, &te) {
			wait = waitText(te.Wait)
		}
		if te != nil && !te.ByClient {
			return http.StatusTooManyRequests, "Too many failed sign-ins for this username from around the internet, so each " +
				"try must wait its turn. Wait " + wait + " and try again; a site administrator can unlock the username.", true
		}
		return http.StatusTooManyRequests, "Too many failed sign-ins from your network. Wait " + wait + " and try again, " +
			"or ask a site administrator to unlock the username.", true
	}
	return 0, "", false
}

// waitText says a wait in words a person reads: "12 seconds", "3 minutes".
func waitText(d time.Duration) string {
	if secs := int(math.Ceil(d.Seconds())); secs < 120 {
		if secs == 1 {
			return "1 second"
		}
		return strconv.Itoa(secs) + " seconds"
	}
	return strconv.Itoa(int(math.Ceil(d.Minutes()))) + " minutes"
}

type loginPage struct {
	Page
	Username string
	Next     string
	Error    string
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	next := localRedirect(r.URL.Query().Get("next"), "/")
	if currentUser(r) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", &loginPage{Page: Page{Title: s.t(r, "login.title"), Embedded: isEmbedded(r)}, Next: next})
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	username, password := r.PostFormValue("username"), r.PostFormValue("password")
	next := localRedirect(r.PostFormValue("next"), "/")
	u, err := s.cfg.Accounts.Authenticate(r.Context(), username, password)
	var te *account.ThrottledError
	if errors.As(err, &te) {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(te.Wait.Seconds()))))
	}
	if status, msg, ok := signInRefused(err); ok {
		s.log.WarnContext(r.Context(), "login failed", slog.String("username", username), slog.Any("reason", err))
		s.render(w, r, status, "login", &loginPage{Page: Page{Title: s.t(r, "login.title"), Embedded: isEmbedded(r)},
			Username: username, Next: next, Error: msg})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A new session token on every sign-in defeats session fixation.
	if err := s.sessions.RenewToken(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sessions.Put(r.Context(), sessionUserID, u.ID)
	s.log.InfoContext(r.Context(), "login", slog.Int64("user_id", u.ID), slog.String("username", u.Username))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if u := currentUser(r); u != nil {
		s.log.InfoContext(r.Context(), "logout", slog.Int64("user_id", u.ID))
	}
	if err := s.sessions.Destroy(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type passwordPage struct {
	Page
	Error     string
	Languages []i18n.Language
}

func (s *Server) passwordForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "password", &passwordPage{Page: Page{Title: s.t(r, "password.title")}, Languages: s.catalog.Languages()})
}

// languageSubmit sets the signed-in user's language ("" follows the browser), which every page then speaks unless
// a launch names another.
func (s *Server) languageSubmit(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	tag := strings.TrimSpace(r.PostFormValue("language"))
	if tag != "" && !s.catalog.Supported(tag) {
		s.renderProblem(w, r, &Problem{Status: http.StatusUnprocessableEntity, Code: "language_unsupported", Title: "This language is not available",
			Cause: fmt.Sprintf("ltipub has no translation for %q.", tag), Fix: "Choose one of the languages the list offers."})
		return
	}
	nu, err := s.cfg.Accounts.SetLanguage(r.Context(), u.ID, tag)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "language changed", slog.Int64("user_id", u.ID), slog.String("language", tag))
	// The flash is in the language just chosen.
	r, rv := withVals(r)
	rv.user = &nu
	s.sessions.Put(r.Context(), "flash", s.printer(r).T("account.language.saved"))
	http.Redirect(w, r, "/account/password", http.StatusSeeOther)
}

func (s *Server) passwordSubmit(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	page := &passwordPage{Page: Page{Title: s.t(r, "password.title")}, Languages: s.catalog.Languages()}
	if u.PasswordHash != "" {
		if err := account.CheckPassword(u.PasswordHash, r.PostFormValue("current")); err != nil {
			page.Error = s.t(r, "password.error.current")
			s.render(w, r, http.StatusBadRequest, "password", page)
			return
		}
	}
	if r.PostFormValue("new") != r.PostFormValue("confirm") {
		page.Error = s.t(r, "password.error.differ")
		s.render(w, r, http.StatusBadRequest, "password", page)
		return
	}
	if err := s.cfg.Accounts.SetPassword(r.Context(), u.ID, r.PostFormValue("new")); err != nil {
		var ve *account.ValidationError
		if errors.As(err, &ve) {
			page.Error = s.accountFieldError(r, ve)
			s.render(w, r, http.StatusBadRequest, "password", page)
			return
		}
		s.fail(w, r, err)
		return
	}
	if err := s.sessions.RenewToken(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sessions.Put(r.Context(), "flash", s.t(r, "password.flash.changed"))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
