package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/tool"
)

// launchLogLimit is how many entries the launch log page shows: the newest ones, which are what an admin
// debugging a platform's launches looks at.
const launchLogLimit = 200

type launchLogRow struct {
	launch.LogEntry
	// Registration names the entry's registration ("" when the platform was not recognised).
	Registration string
}

type launchLogPage struct {
	Page
	fmtHelpers
	Rows          []launchLogRow
	Registrations []tool.Registration
	Filter        launch.LogFilter
	Outcomes      []string
	Limit         int
	// Older is the link to the next page of older rows ("" on the last page).
	Older string
	// Charts are launches over time (charts.go).
	Charts *chartPanel
}

func (s *Server) launchLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := launch.LogFilter{Limit: launchLogLimit}
	if v := q.Get("registration"); v != "" && v != "0" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			s.renderProblem(w, r, &Problem{Status: http.StatusBadRequest, Title: "Unknown registration filter",
				Cause: "The registration filter " + strconv.Quote(v) + " is not a registration id.", Fix: "Choose a registration from the list."})
			return
		}
		f.RegistrationID = id
	}
	if v := q.Get("before"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			s.renderProblem(w, r, &Problem{Status: http.StatusBadRequest, Title: "Unknown page",
				Cause: "The page marker " + strconv.Quote(v) + " is not a launch id.", Fix: "Go back to the launch log's first page."})
			return
		}
		f.BeforeID = id
	}
	switch v := q.Get("outcome"); v {
	case "", launch.Accepted, launch.Refused:
		f.Outcome = v
	default:
		s.renderProblem(w, r, &Problem{Status: http.StatusBadRequest, Title: "Unknown outcome filter",
			Cause: "The outcome filter " + strconv.Quote(v) + " is neither accepted nor refused.", Fix: "Choose an outcome from the list."})
		return
	}
	regs, err := s.cfg.Launches.RegistrationList(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := make(map[int64]string, len(regs))
	for _, reg := range regs {
		names[reg.ID] = reg.Name
	}
	entries, err := s.cfg.Launches.LaunchLog(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &launchLogPage{Page: Page{Title: "Launch log", Embedded: isEmbedded(r)}, Registrations: regs, Filter: f,
		Outcomes: []string{launch.Accepted, launch.Refused}, Limit: launchLogLimit}
	for _, e := range entries {
		row := launchLogRow{LogEntry: e, Registration: names[e.RegistrationID]}
		if row.Registration == "" && e.RegistrationID != 0 {
			row.Registration = "deleted registration " + strconv.FormatInt(e.RegistrationID, 10)
		}
		p.Rows = append(p.Rows, row)
	}
	if len(entries) == launchLogLimit {
		older := url.Values{"before": {strconv.FormatInt(entries[len(entries)-1].ID, 10)}}
		if f.RegistrationID != 0 {
			older.Set("registration", strconv.FormatInt(f.RegistrationID, 10))
		}
		if f.Outcome != "" {
			older.Set("outcome", f.Outcome)
		}
		p.Older = "/admin/launches?" + older.Encode()
	}
	if p.Charts, err = s.launchCharts(r.Context(), f.RegistrationID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_launches", p)
}
