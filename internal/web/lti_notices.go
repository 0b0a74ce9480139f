package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/ltipub/ltipub/internal/notice"
	"github.com/ltipub/ltipub/lti"
)

// Platform Notification Service: the notice handler endpoint platforms POST notices to (server to server: no
// session, no cross-origin check; every notice carries its own signature), and the admin's page of what arrived.
// The flow is internal/notice's.

func (s *Server) noticeRoutes(mux, app *http.ServeMux) {
	mux.Handle("POST /lti/notices/{id}", http.HandlerFunc(s.ltiNotices))
	app.Handle("GET /admin/platforms/{id}/notices", s.requireAdmin(http.HandlerFunc(s.platformNotices)))
}

// noticeAnswer is the body of the answer to a notice batch: what became of each notice, and, when any was refused,
// the first refusal's cause.
type noticeAnswer struct {
	Error            string          `json:"error,omitempty"`
	ErrorDescription string          `json:"error_description,omitempty"`
	Results          []notice.Result `json:"results"`
}

func (s *Server) ltiNotices(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || s.cfg.Notices == nil {
		s.fail(w, r, &Problem{Status: http.StatusNotFound, Code: "notice_handler_unknown", Title: s.t(r, "platforms.notices.unknown.title"),
			Cause: s.t(r, "platforms.notices.unknown.cause"), Fix: s.t(r, "platforms.notices.unknown.fix")})
		return
	}
	jwts, err := lti.ParseNoticeBatch(r.Body, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc, err := s.cfg.Notices.Receive(r.Context(), id, jwts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ans := noticeAnswer{Results: rc.Results}
	status := http.StatusOK
	for _, res := range rc.Results {
		if res.Outcome == notice.Refused {
			status = http.StatusUnauthorized
			ans.Error, ans.ErrorDescription = res.Code, res.Reason
			break
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ans)
}

type noticesPage struct {
	platformPage
	Enabled  bool
	Notices  []notice.Record
	Handlers []notice.Handler
}

// platformNotices shows an admin the registration's notice handlers and the notices received.
func (s *Server) platformNotices(w http.ResponseWriter, r *http.Request) {
	reg, ok := s.loadPlatform(w, r)
	if !ok {
		return
	}
	p := &noticesPage{platformPage: platformPage{Page: Page{Title: s.t(r, "platforms.page_title.notices", "Name", reg.Name)}, Reg: reg, Tab: "notices"},
		Enabled: s.cfg.Notices != nil}
	if s.cfg.Notices != nil {
		var err error
		if p.Notices, err = s.cfg.Notices.Recent(r.Context(), reg.ID, 50); err != nil {
			s.fail(w, r, err)
			return
		}
		for _, d := range reg.Deployments {
			hs, err := s.cfg.Notices.Handlers(r.Context(), reg.ID, d.DeploymentID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			p.Handlers = append(p.Handlers, hs...)
		}
	}
	s.render(w, r, http.StatusOK, "admin_platform_notices", p)
}
