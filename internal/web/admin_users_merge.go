package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/i18n"
)

// Account merge (internal/account/merge.go): GET /admin/users/merge asks for the two accounts, then shows what
// each holds and what the merge would do (a dry run); the POST merges.

type userMergePage struct {
	Page
	fmtHelpers
	KeepRef, DropRef string
	// Plan is set once both accounts are found.
	Plan *account.MergePlan
	// Sides are the two accounts side by side: the one kept, then the one merged into it.
	Sides []mergeSide
	Error string
}

type mergeSide struct {
	ID, Title string
	H         account.Holdings
}

func (s *Server) mergeRoutes(app *http.ServeMux) {
	app.Handle("GET /admin/users/merge", s.requireAdmin(http.HandlerFunc(s.userMergeForm)))
	app.Handle("POST /admin/users/merge", s.requireAdmin(http.HandlerFunc(s.userMerge)))
}

// mergePlan finds the two accounts named by keep and drop (IDs or usernames) and plans the merge; a problem the
// admin can fix (unknown account, the same one twice, the last administrator) is the page's Error.
func (s *Server) mergePlan(r *http.Request, keepRef, dropRef string) (*userMergePage, error) {
	tr := s.printer(r)
	p := &userMergePage{Page: Page{Title: tr.T("people.merge.title")}, KeepRef: keepRef, DropRef: dropRef}
	if keepRef == "" || dropRef == "" {
		return p, nil
	}
	ctx := r.Context()
	missing := keepRef
	keep, err := s.cfg.Users.Find(ctx, keepRef)
	if err == nil {
		missing = dropRef
		var drop account.User
		drop, err = s.cfg.Users.Find(ctx, dropRef)
		if err == nil {
			if drop.ID == currentUser(r).ID {
				p.Error = tr.T("people.error.merge_self")
				return p, nil
			}
			var plan account.MergePlan
			plan, err = s.cfg.Users.PlanMerge(ctx, keep.ID, drop.ID)
			if err == nil {
				p.Plan = &plan
				p.Sides = []mergeSide{{"merge-keep", tr.T("people.merge.side.keep"), plan.Keep}, {"merge-drop", tr.T("people.merge.side.drop"), plan.Drop}}
				return p, nil
			}
		}
	}
	if errors.Is(err, account.ErrNotFound) {
		p.Error = tr.T("people.error.no_account", "Ref", strconv.Quote(missing))
		return p, nil
	}
	if text := accountError(tr, err); text != "" {
		p.Error = text
		return p, nil
	}
	return nil, err
}

func (s *Server) userMergeForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := s.mergePlan(r, strings.TrimSpace(q.Get("keep")), strings.TrimSpace(q.Get("drop")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if p.Error != "" {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "admin_user_merge", p)
}

func (s *Server) userMerge(w http.ResponseWriter, r *http.Request) {
	p, err := s.mergePlan(r, strings.TrimSpace(r.PostFormValue("keep")), strings.TrimSpace(r.PostFormValue("drop")))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if p.Plan == nil {
		if p.Error == "" {
			p.Error = s.t(r, "people.error.merge_both")
		}
		s.render(w, r, http.StatusBadRequest, "admin_user_merge", p)
		return
	}
	keep, drop := p.Plan.Keep.User, p.Plan.Drop.User
	admin := currentUser(r)
	rep, err := s.cfg.Users.Merge(r.Context(), keep.ID, drop.ID, admin.Username)
	if errors.Is(err, account.ErrLastAdmin) || errors.Is(err, account.ErrMergeSame) {
		p.Error = accountError(s.printer(r), err)
		s.render(w, r, http.StatusBadRequest, "admin_user_merge", p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "users merged", slog.Int64("kept_user_id", keep.ID), slog.String("kept_username", keep.Username),
		slog.Int64("dropped_user_id", drop.ID), slog.String("dropped_username", drop.Username), slog.Int64("admin_id", admin.ID),
		slog.String("summary", rep.Summary()))
	s.sessions.Put(r.Context(), "flash", mergedFlash(s.printer(r), drop.Username, keep.Username, rep))
	http.Redirect(w, r, "/admin/users/"+strconv.FormatInt(keep.ID, 10), http.StatusSeeOther)
}

// mergedFlash says what a merge did. The things both accounts held, which the store words, are listed in English
// only; other languages count them (the merge page listed them before).
func mergedFlash(tr *i18n.Printer, drop, keep string, rep account.MergeReport) string {
	resolved := ""
	if len(rep.Resolved) > 0 {
		if tr.Tag() == i18n.Source {
			resolved = "; " + strings.Join(rep.Resolved, "; ")
		} else {
			resolved = tr.T("people.merge.flash_resolved", "Count", len(rep.Resolved))
		}
	}
	return tr.T("people.merge.flash", "Drop", drop, "Keep", keep, "Moved", movedList(tr, "people.merge.flash_moved", rep.Moved), "Resolved", resolved)
}
