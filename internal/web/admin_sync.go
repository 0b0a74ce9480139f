package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/store"
)

// SyncJobs is what the admin Sync page needs from the sync service (jobs.Service).
type SyncJobs interface {
	Runs(ctx context.Context, kind jobs.Kind, limit int) ([]jobs.Run, error)
	RunsPage(ctx context.Context, f jobs.RunFilter) ([]jobs.Run, int, error)
	RunNow(ctx context.Context, kind jobs.Kind, resourceID int64) (int64, error)
	// MemberHolds lists unenrolments the member sync safety valve holds; ConfirmMemberHold applies one link's.
	MemberHolds(ctx context.Context) ([]jobs.MemberHold, error)
	ConfirmMemberHold(ctx context.Context, linkID int64) (int64, error)
}

func (s *Server) syncRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/sync", s.requireAdmin(http.HandlerFunc(s.syncPage)))
	mux.Handle("GET /admin/sync/runs", s.requireAdmin(http.HandlerFunc(s.syncRunsPage)))
	mux.Handle("GET /admin/sync/status.json", s.requireAdmin(http.HandlerFunc(s.syncStatus)))
	mux.Handle("POST /admin/sync/{kind}/run", s.requireAdmin(http.HandlerFunc(s.syncRunNow)))
	mux.Handle("POST /admin/sync/members/confirm", s.requireAdmin(http.HandlerFunc(s.syncConfirmHold)))
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
	fmtHelpers
	Available bool
	Sections  []syncSection
	Holds     []jobs.MemberHold
	// Warnings are links whose platform offers no service for a sync their resource has on (grade_delivery.go).
	Warnings      []jobs.ResourceWarning
	WarningsTotal int
	// Charts are scores and rosters over time (charts.go).
	Charts *chartPanel
}

func (s *Server) syncPage(w http.ResponseWriter, r *http.Request) {
	tr := s.printer(r)
	p := &syncPage{Page: Page{Title: tr.T("ops.sync.title")}, Available: s.cfg.Sync != nil}
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
				sec.Title, sec.What = tr.T("ops.sync.grades.title"), tr.T("ops.sync.grades.what")
			case jobs.KindMembers:
				sec.Title, sec.What = tr.T("ops.sync.members.title"), tr.T("ops.sync.members.what")
			}
			if len(runs) > 0 {
				sec.Last = &runs[0]
			}
			p.Sections = append(p.Sections, sec)
		}
		holds, err := s.cfg.Sync.MemberHolds(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for i := range holds {
			holds[i].Reason = holdReason(tr, holds[i].Reason)
		}
		p.Holds = holds
	}
	if d := s.gradeDelivery(); d != nil {
		var err error
		if p.Warnings, p.WarningsTotal, err = d.SyncWarnings(r.Context(), 20); err != nil {
			s.fail(w, r, err)
			return
		}
		for i := range p.Warnings {
			p.Warnings[i].Warning = localizeWarning(tr, p.Warnings[i].Warning)
		}
	}
	var err error
	if p.Charts, err = s.syncCharts(r.Context(), s.printer(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_sync", p)
}

// syncRunJSON is a run as the Sync page's script (static/sync.js) shows it.
type syncRunJSON struct {
	ID         int64  `json:"id"`
	Cause      string `json:"cause"`
	ResourceID int64  `json:"resource_id,omitempty"`
	Status     string `json:"status"`
	// CauseText and StatusText are Cause and Status in the page's language, for the script to show.
	CauseText  string `json:"cause_text"`
	StatusText string `json:"status_text"`
	Started    string `json:"started"`
	Duration   string `json:"duration"`
	Links      int    `json:"links"`
	Sent       int    `json:"sent"`
	Unchanged  int    `json:"unchanged"`
	Failed     int    `json:"failed"`
	Created    int    `json:"created"`
	Enrolled   int    `json:"enrolled"`
	Unenrolled int    `json:"unenrolled"`
	Updated    int    `json:"updated"`
	Skipped    int    `json:"skipped"`
	Held       int    `json:"held"`
	Error      string `json:"error"`
	Note       string `json:"note"`
}

type syncHoldJSON struct {
	LinkID       int64  `json:"link_id"`
	ResourceName string `json:"resource_name"`
	LinkTitle    string `json:"link_title"`
	WouldUnenrol int    `json:"would_unenrol"`
	Members      int    `json:"members"`
	Reason       string `json:"reason"`
}

type syncStatusJSON struct {
	Running bool                     `json:"running"`
	Runs    map[string][]syncRunJSON `json:"runs"`
	Holds   []syncHoldJSON           `json:"holds"`
}

// syncStatus answers the Sync page's polling: the latest runs with their live counts, and the held unenrolments.
func (s *Server) syncStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	out := syncStatusJSON{Runs: map[string][]syncRunJSON{}, Holds: []syncHoldJSON{}}
	tr := s.printer(r)
	if s.cfg.Sync != nil {
		for _, k := range jobs.Kinds {
			runs, err := s.cfg.Sync.Runs(r.Context(), k, 15)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			list := make([]syncRunJSON, 0, len(runs))
			for _, run := range runs {
				if run.Status == jobs.StatusRunning {
					out.Running = true
				}
				list = append(list, syncRunJSON{ID: run.ID, Cause: string(run.Cause), ResourceID: run.ResourceID, Status: run.Status,
					CauseText: recordedWord(tr, "cause", string(run.Cause)), StatusText: recordedWord(tr, "run_status", run.Status),
					Started: run.StartedAt.Local().Format("2006-01-02 15:04:05"), Duration: run.Duration().String(), Links: run.Links,
					Sent: run.Sent, Unchanged: run.Unchanged, Failed: run.Failed, Created: run.Created, Enrolled: run.Enrolled,
					Unenrolled: run.Unenrolled, Updated: run.Updated, Skipped: run.Skipped, Held: run.Held, Error: run.Error, Note: run.Note})
			}
			out.Runs[string(k)] = list
		}
		holds, err := s.cfg.Sync.MemberHolds(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, h := range holds {
			out.Holds = append(out.Holds, syncHoldJSON{LinkID: h.LinkID, ResourceName: h.ResourceName, LinkTitle: h.LinkTitle,
				WouldUnenrol: h.WouldUnenrol, Members: h.Members, Reason: holdReason(tr, h.Reason)})
		}
	}
	writeJSON(w, out)
}

// syncConfirmHold applies the unenrolments held for one resource link (a forced member sync of the link).
func (s *Server) syncConfirmHold(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Sync == nil {
		s.fail(w, r, errSyncUnavailable)
		return
	}
	linkID, err := strconv.ParseInt(r.PostFormValue("link_id"), 10, 64)
	if err != nil || linkID <= 0 {
		v := r.PostFormValue("link_id")
		s.fail(w, r, &Problem{Status: http.StatusBadRequest, Code: "bad_link", Title: "Not a resource link",
			Cause: fmt.Sprintf("%q is not a resource link id.", v), Fix: "Use the Confirm button on the Sync page.",
			Localize: opsWords("ops.sync.bad_link", "Value", strconv.Quote(v))})
		return
	}
	id, err := s.cfg.Sync.ConfirmMemberHold(r.Context(), linkID)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, &Problem{Status: http.StatusNotFound, Code: "no_hold", Title: "Nothing to confirm",
			Cause: "No unenrolments are held for this resource link: they were confirmed already, or a later run found the roster whole.",
			Fix:   "Reload the Sync page.", Localize: opsWords("ops.sync.no_hold")})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "held unenrolments confirmed by an admin", slog.Int64("link_id", linkID), slog.Int64("job_id", id),
		slog.Int64("user_id", currentUser(r).ID))
	s.sessions.Put(r.Context(), "flash", s.t(r, "ops.sync.flash.confirmed", "Job", id))
	http.Redirect(w, r, "/admin/sync", http.StatusSeeOther)
}

func (s *Server) syncRunNow(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Sync == nil {
		s.fail(w, r, errSyncUnavailable)
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
				Cause: fmt.Sprintf("%q is not a published resource id.", v), Fix: "Leave it empty to sync every resource.",
				Localize: opsWords("ops.sync.bad_resource", "Value", strconv.Quote(v))})
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
	s.sessions.Put(r.Context(), "flash", s.t(r, "ops.sync.flash.queued."+string(kind), "Job", id))
	http.Redirect(w, r, "/admin/sync", http.StatusSeeOther)
}

var errSyncUnavailable = &Problem{Status: http.StatusServiceUnavailable, Code: "sync_unavailable", Title: "Sync is not running",
	Cause: "This server was started without the job queue.", Fix: "Start ltipub with `ltipub serve`.",
	Localize: opsWords("ops.sync.unavailable")}

// opsWords are a problem's words from the catalog: key.title, key.cause and key.fix, with args.
func opsWords(key string, args ...any) func(*i18n.Printer) (string, string, string) {
	return func(tr *i18n.Printer) (string, string, string) {
		return tr.T(key+".title", args...), tr.T(key+".cause", args...), tr.T(key+".fix", args...)
	}
}

// localizeWarnings says sync warnings in tr's language (the sync_warnings partial shows them as given).
func localizeWarnings(tr *i18n.Printer, ws []jobs.Warning) []jobs.Warning {
	for i := range ws {
		ws[i] = localizeWarning(tr, ws[i])
	}
	return ws
}

// localizeWarning says a sync warning (jobs.LinkWarnings' English) in tr's language, by its problem's start and
// its fix; a warning the catalog does not know stays as written.
func localizeWarning(tr *i18n.Printer, w jobs.Warning) jobs.Warning {
	if tr.Tag() == i18n.Source {
		return w
	}
	for _, m := range []struct{ prefix, key string }{
		{"Grade sync is on, but the platform sent no outcome service URL", "ops.warning.no_outcome"},
		{"Grade sync is on, but the platform offered no grade service", "ops.warning.no_ags"},
		{"Grade sync is on, but the platform did not grant the score scope", "ops.warning.no_score_scope"},
		{"Grade sync is on, but the link has no grade column of its own", "ops.warning.no_lineitem_scope"},
		{"Member sync is on, but the platform offered no roster service", "ops.warning.no_nrps"},
	} {
		if strings.HasPrefix(w.Problem, m.prefix) {
			w.Problem = tr.T(m.key)
			break
		}
	}
	switch w.Fix {
	case jobs.FixGrades:
		w.Fix = tr.T("ops.warning.fix_grades")
	case jobs.FixMembers:
		w.Fix = tr.T("ops.warning.fix_members")
	case jobs.FixLegacyGrades:
		w.Fix = tr.T("ops.warning.fix_legacy_grades")
	}
	return w
}

// holdReasonRe reads the reason jobs writes for held unenrolments (jobs.Service.hold), so that the Sync page can
// say it in the reader's language with the same figures.
var holdReasonRe = regexp.MustCompile(`^(\d+) of the (\d+) members enrolled through this link \((\d+)%\) are missing from the roster the platform ` +
	`returned(?:, among them (.*?)(?: and (\d+) more)?)?, more than the (\d+)% one sync may unenrol \(--member-sync-max-unenrol\); nothing was unenrolled\. ` +
	`.* --resource (\S+) --force` + "`" + `\.$`)

// holdReason is a held unenrolment's reason in tr's language (as recorded when the catalog cannot say it).
func holdReason(tr *i18n.Printer, reason string) string {
	m := holdReasonRe.FindStringSubmatch(reason)
	if m == nil || tr.Tag() == i18n.Source {
		return reason
	}
	names := ""
	if m[4] != "" {
		names = tr.T("ops.sync.holds.among", "Names", m[4])
		if m[5] != "" {
			names = tr.T("ops.sync.holds.among_more", "Names", m[4], "More", m[5])
		}
	}
	return tr.T("ops.sync.holds.reason", "Stale", m[1], "Members", m[2], "Percent", m[3], "Names", names, "Limit", m[6], "Resource", m[7])
}
