package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/tool"
)

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
	Codes         []string
	Pager         pager
	// Charts are launches over time (charts.go).
	Charts *chartPanel
}

// launchFilter reads the launch log's filters: registration, outcome, code, user, from and to (UTC).
func launchFilter(q map[string][]string, req pageReq) (launch.LogFilter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	f := launch.LogFilter{Code: get("code"), User: get("user"), Offset: req.Offset(), Limit: req.Size}
	if v := get("registration"); v != "" && v != "0" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			return f, badFilter("registration", v, "a registration: choose one from the list")
		}
		f.RegistrationID = id
	}
	switch v := get("outcome"); v {
	case "", launch.Accepted, launch.Refused:
		f.Outcome = v
	default:
		return f, badFilter("outcome", v, "accepted or refused")
	}
	var err error
	if f.From, err = parseLocalTime("from", get("from")); err != nil {
		return f, badFilter("from", get("from"), "a date and time like 2026-03-01T17:00 (UTC)")
	}
	if f.To, err = parseLocalTime("to", get("to")); err != nil {
		return f, badFilter("to", get("to"), "a date and time like 2026-03-01T17:00 (UTC)")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		from, to := f.From.Format("2006-01-02 15:04"), f.To.Format("2006-01-02 15:04")
		return f, &Problem{Status: http.StatusBadRequest, Code: "bad_filter", Title: "That time range is empty",
			Cause: "The launch log's range ends (" + to + ") before it starts (" + from + ").",
			Fix:   "Choose a From time before the To time, or leave one of them empty.",
			Localize: func(tr *i18n.Printer) (string, string, string) {
				return tr.T("ops.launches.range.title"), tr.T("ops.launches.range.cause", "From", from, "To", to), tr.T("ops.launches.range.fix")
			}}
	}
	return f, nil
}

func (s *Server) launchLog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, err := readPage(q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := launchFilter(q, req)
	if err != nil {
		s.fail(w, r, err)
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
	entries, total, err := s.cfg.Launches.LaunchLogPage(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	codes, err := s.cfg.Launches.LaunchCodes(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tr := s.printer(r)
	p := &launchLogPage{Page: Page{Title: tr.T("ops.launches.title"), Embedded: isEmbedded(r)}, Registrations: regs, Filter: f,
		Outcomes: []string{launch.Accepted, launch.Refused}, Codes: codes,
		Pager: newPager("/admin/launches", q, req, total, len(entries), tr.T("ops.pager.launches"), f.Filtered())}
	for _, e := range entries {
		row := launchLogRow{LogEntry: e, Registration: names[e.RegistrationID]}
		if row.Registration == "" && e.RegistrationID != 0 {
			row.Registration = tr.T("ops.launches.deleted_registration", "ID", e.RegistrationID)
		}
		p.Rows = append(p.Rows, row)
	}
	if p.Charts, err = s.launchCharts(r.Context(), s.printer(r), f.RegistrationID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_launches", p)
}
