package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/store"
)

// userRoutes registers the site administrator's user pages.
func (s *Server) userRoutes(app *http.ServeMux) {
	admin := func(pattern string, h http.HandlerFunc) { app.Handle(pattern, s.requireAdmin(h)) }
	admin("GET /admin/users", s.userList)
	admin("GET /admin/users/{id}", s.userDetail)
	admin("POST /admin/users/{id}/suspend", s.userSuspend)
	admin("POST /admin/users/{id}/unsuspend", s.userUnsuspend)
	admin("POST /admin/users/{id}/unlock", s.userUnlock)
	admin("POST /admin/users/{id}/password", s.userSetPassword)
	admin("GET /admin/users/{id}/delete", s.userDeleteConfirm)
	admin("POST /admin/users/{id}/delete", s.userDelete)
	s.mergeRoutes(app)
}

type userListPage struct {
	Page
	fmtHelpers
	Users []account.User
	Query string
	Pager pager
}

func (s *Server) userList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, err := readPage(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := account.UserFilter{Query: strings.TrimSpace(q.Get("q")), After: q.Get("after"), Offset: req.Offset(), Limit: req.Size}
	users, _, err := s.cfg.Users.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	total, err := s.cfg.Users.Count(r.Context(), f.Query)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_users", &userListPage{Page: Page{Title: s.t(r, "people.users")}, Users: users, Query: f.Query,
		Pager: newPager("/admin/users", q, req, total, len(users), s.t(r, "people.pager.accounts"), f.Query != "")})
}

type userDetailPage struct {
	Page
	fmtHelpers
	// Account is the account shown (Page.User is the signed-in admin).
	Account          account.User
	PlatformAccounts []account.PlatformAccount
	Enrolments       []account.EnrolmentSummary
	LastLaunchAt     time.Time
	Locked           bool
	Error            string
}

func detailPage(d account.Detail, errMsg string) *userDetailPage {
	return &userDetailPage{Page: Page{Title: d.User.Username}, Account: d.User, PlatformAccounts: d.PlatformAccounts,
		Enrolments: d.Enrolments, LastLaunchAt: d.LastLaunchAt, Locked: d.Locked, Error: errMsg}
}

// loadUserDetail reads the {id} of the path and the account's page data; it answers the request itself when it
// cannot (ok false).
func (s *Server) loadUserDetail(w http.ResponseWriter, r *http.Request) (account.Detail, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		var d account.Detail
		d, err = s.cfg.Users.Detail(r.Context(), id)
		if err == nil {
			return d, true
		}
	}
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, strconv.ErrSyntax) {
		tr := s.printer(r)
		s.renderProblem(w, r, &Problem{Status: http.StatusNotFound, Code: "user_unknown", Title: tr.T("people.problem.user_unknown.title"),
			Cause: tr.T("people.problem.user_unknown.cause", "ID", strconv.Quote(r.PathValue("id"))), Fix: tr.T("people.problem.user_unknown.fix")})
		return account.Detail{}, false
	}
	s.fail(w, r, err)
	return account.Detail{}, false
}

func (s *Server) userDetail(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadUserDetail(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "admin_user", detailPage(d, ""))
}

// userAction runs one change on an account and goes back to its page with a flash message; a refusal the admin
// can act on (the last administrator, a short password) is shown on the page.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request, what string, fn func(ctx context.Context, u account.User) (string, error)) {
	d, ok := s.loadUserDetail(w, r)
	if !ok {
		return
	}
	msg, err := fn(r.Context(), d.User)
	var ve *account.ValidationError
	if errors.Is(err, account.ErrLastAdmin) || errors.As(err, &ve) {
		page := detailPage(d, accountError(s.printer(r), err))
		if ve != nil {
			page.Error = s.accountFieldError(r, ve)
		}
		s.render(w, r, http.StatusBadRequest, "admin_user", page)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "user "+what, slog.Int64("user_id", d.User.ID), slog.String("username", d.User.Username),
		slog.Int64("admin_id", currentUser(r).ID))
	s.sessions.Put(r.Context(), "flash", msg)
	http.Redirect(w, r, "/admin/users/"+strconv.FormatInt(d.User.ID, 10), http.StatusSeeOther)
}

func (s *Server) userSuspend(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "suspended", func(ctx context.Context, u account.User) (string, error) {
		_, err := s.cfg.Users.Suspend(ctx, u.ID)
		return s.t(r, "people.user.flash.suspended", "Name", u.Username), err
	})
}

func (s *Server) userUnsuspend(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "unsuspended", func(ctx context.Context, u account.User) (string, error) {
		_, err := s.cfg.Users.Unsuspend(ctx, u.ID)
		return s.t(r, "people.user.flash.unsuspended", "Name", u.Username), err
	})
}

func (s *Server) userUnlock(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "unlocked", func(ctx context.Context, u account.User) (string, error) {
		return s.t(r, "people.user.flash.unlocked", "Name", u.Username), s.cfg.Accounts.UnlockSignIn(ctx, u.Username)
	})
}

func (s *Server) userSetPassword(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "password set", func(ctx context.Context, u account.User) (string, error) {
		pw, confirm := r.PostFormValue("password"), r.PostFormValue("confirm")
		if pw != confirm {
			return "", &account.ValidationError{Field: "password", Message: "and its confirmation differ: type the same password twice", Code: "account.password_mismatch"}
		}
		must := r.PostFormValue("must_change") == "on"
		msg := s.t(r, "people.user.flash.password_set", "Name", u.Username)
		if must {
			msg += " " + s.t(r, "people.user.flash.must_change")
		}
		return msg, s.cfg.Users.SetPassword(ctx, u.ID, pw, must)
	})
}

type userDeletePage struct {
	Page
	Account    account.User
	Dependents account.Dependents
	Error      string
}

func (s *Server) userDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadUserDetail(w, r)
	if !ok {
		return
	}
	deps, err := s.cfg.Users.Store.UserDependents(r.Context(), d.User.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_user_delete", &userDeletePage{Page: Page{Title: s.t(r, "people.delete.page_title", "Name", d.User.Username)},
		Account: d.User, Dependents: deps})
}

func (s *Server) userDelete(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadUserDetail(w, r)
	if !ok {
		return
	}
	if d.User.ID == currentUser(r).ID {
		deps, _ := s.cfg.Users.Store.UserDependents(r.Context(), d.User.ID)
		s.render(w, r, http.StatusBadRequest, "admin_user_delete", &userDeletePage{Page: Page{Title: s.t(r, "people.delete.page_title", "Name", d.User.Username)},
			Account: d.User, Dependents: deps, Error: s.t(r, "people.error.delete_self")})
		return
	}
	err := s.cfg.Users.Delete(r.Context(), d.User.ID)
	if errors.Is(err, account.ErrLastAdmin) {
		deps, _ := s.cfg.Users.Store.UserDependents(r.Context(), d.User.ID)
		s.render(w, r, http.StatusBadRequest, "admin_user_delete", &userDeletePage{Page: Page{Title: s.t(r, "people.delete.page_title", "Name", d.User.Username)},
			Account: d.User, Dependents: deps, Error: accountError(s.printer(r), err)})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "user deleted", slog.Int64("user_id", d.User.ID), slog.String("username", d.User.Username),
		slog.Int64("admin_id", currentUser(r).ID))
	s.sessions.Put(r.Context(), "flash", s.t(r, "people.delete.flash", "Name", d.User.Username))
	http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
}

// requireNewPassword sends a signed-in user whose password must change (the generated first admin's, or one an
// admin set as temporary) to the password page before anything else. Sessions that a launch started, LTI
// endpoints and launch pages are left alone: a launch is not a password sign-in.
func (s *Server) requireNewPassword(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := currentUser(r)
		if u == nil || !u.MustChangePassword || vals(r.Context()).scope != nil {
			next.ServeHTTP(w, r)
			return
		}
		p := r.URL.Path
		if p == "/account/password" || p == "/logout" || strings.HasPrefix(p, "/lti/") || strings.HasPrefix(p, "/launch/") {
			next.ServeHTTP(w, r)
			return
		}
		http.Redirect(w, r, "/account/password", http.StatusSeeOther)
	})
}
