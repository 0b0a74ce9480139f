package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/ltipub/ltipub/internal/jobs"
)

// SyncJobs is what the admin Sync page needs from the sync service (jobs.Service).
type SyncJobs interface {
	Runs(ctx context.Context, kind jobs.Kind, limit int) ([]jobs.Run, error)
	RunNow(ctx context.Context, kind jobs.Kind, resourceID int64) (int64, error)
}

func (s *Server) syncRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/sync", s.requireAdmin(http.HandlerFunc(s.syncPage)))
	mux.Handle("POST /admin/sync/{kind}/run", s.requireAdmin(http.HandlerFunc(s.syncRunNow)))
}

type syncSection struct {
	Kind  jobs.Kind
	Title string
	What  string
	Last  *jobs.Run
	Runs  []jobs.Run
}

type syncPage struct {
	Page
	Available bool
	Sections  []syncSection
	// Warnings are links whose platform offers no service for a sync their resource has on (grade_delivery.go).
	Warnings      []jobs.ResourceWarning
	WarningsTotal int
}

func (s *Server) syncPage(w http.ResponseWriter, r *http.Request) {
	p := &syncPage{Page: Page{Title: "Sync"}, Available: s.cfg.Sync != nil}
	if s.cfg.Sync != nil {
		for _, k := range jobs.Kinds {
			runs, err := s.cfg.Sync.Runs(r.Context(), k, 15)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			sec := syncSection{Kind: k, Runs: runs}
			switch k {
			case jobs.KindGrades:
				sec.Title, sec.What = "Grade sync", "Sends changed grades to the platforms' gradebooks (AGS)."
			case jobs.KindMembers:
				sec.Title, sec.What = "Member sync", "Reads the platforms' rosters (NRPS): enrols new members, unenrols those gone."
			}
			if len(runs) > 0 {
				sec.Last = &runs[0]
			}
			p.Sections = append(p.Sections, sec)
		}
	}
	if d := s.gradeDelivery(); d != nil {
		var err error
		if p.Warnings, p.WarningsTotal, err = d.SyncWarnings(r.Context(), 20); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "admin_sync", p)
}

func (s *Server) syncRunNow(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Sync == nil {
		s.fail(w, r, &Problem{Status: http.StatusServiceUnavailable, Code: "sync_unavailable", Title: "Sync is not running",
			Cause: "This server was started without the job queue.", Fix: "Start ltipub with `ltipub serve`."})
		return
	}
	kind := jobs.Kind(r.PathValue("kind"))
	if kind != jobs.KindGrades && kind != jobs.KindMembers {
		s.notFound(w, r)
		return
	}
	var resourceID int64
	if v := r.PostFormValue("resource_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			s.fail(w, r, &Problem{Status: http.StatusBadRequest, Code: "bad_resource", Title: "Not a published resource",
				Cause: fmt.Sprintf("%q is not a published resource id.", v), Fix: "Leave it empty to sync every resource."})
			return
		}
		resourceID = id
	}
	id, err := s.cfg.Sync.RunNow(r.Context(), kind, resourceID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "sync queued by an admin", slog.String("kind", string(kind)), slog.Int64("job_id", id),
		slog.Int64("user_id", currentUser(r).ID))
	s.sessions.Put(r.Context(), "flash", fmt.Sprintf("The %s sync is queued (job %d); reload this page to see it run.", kind, id))
	http.Redirect(w, r, "/admin/sync", http.StatusSeeOther)
}
