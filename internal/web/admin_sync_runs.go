package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ltipub/ltipub/internal/jobs"
)

// The sync run history: every run of both syncs, paged and filtered. The Sync page itself keeps its live view of
// the latest runs (sync.js redraws it) and links here for the rest.

type syncRunsPage struct {
	Page
	fmtHelpers
	Runs     []jobs.Run
	Filter   jobs.RunFilter
	Kinds    []jobs.Kind
	Statuses []string
	Causes   []jobs.Cause
	Pager    pager
}

// Filtered reports whether a filter is in use.
func (p *syncRunsPage) Filtered() bool {
	return p.Filter.Kind != "" || p.Filter.Status != "" || p.Filter.Cause != ""
}

func (s *Server) syncRunsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, err := readPage(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := jobs.RunFilter{Kind: jobs.Kind(strings.TrimSpace(q.Get("kind"))), Status: strings.TrimSpace(q.Get("status")),
		Cause: jobs.Cause(strings.TrimSpace(q.Get("cause"))), Offset: req.Offset(), Limit: req.Size}
	switch {
	case f.Kind != "" && !slices.Contains(jobs.Kinds, f.Kind):
		err = badFilter("kind", string(f.Kind), "grades or members")
	case f.Status != "" && !slices.Contains(jobs.Statuses, f.Status):
		err = badFilter("status", f.Status, "one of "+strings.Join(jobs.Statuses, ", "))
	case f.Cause != "" && !slices.Contains(jobs.Causes, f.Cause):
		err = badFilter("cause", string(f.Cause), "periodic, manual, change or startup")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &syncRunsPage{Page: Page{Title: s.t(r, "ops.runs.title")}, Filter: f, Kinds: jobs.Kinds, Statuses: jobs.Statuses, Causes: jobs.Causes}
	total := 0
	if s.cfg.Sync != nil {
		if p.Runs, total, err = s.cfg.Sync.RunsPage(r.Context(), f); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	p.Pager = newPager("/admin/sync/runs", q, req, total, len(p.Runs), s.t(r, "ops.pager.sync_runs"), p.Filtered())
	s.render(w, r, http.StatusOK, "admin_sync_runs", p)
}
