package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/logging"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
	"github.com/ltipub/ltipub/lti/lti2"
)

// LTI 2.0 tool proxy registration (internal/launch/lti2.go): the registration URL of a resource's Legacy
// details, where a platform posts a ToolProxyRegistrationRequest. A registration that succeeds sends the browser
// back to the platform; one that fails shows why, with the way back to the platform (status=failure).

func (s *Server) lti2Routes(app, lti *http.ServeMux) {
	app.Handle("POST /courses/{id}/published/{rid}/legacy/toolproxies/{tid}/delete", s.requireUser(http.HandlerFunc(s.lti2RemoveToolProxy)))
	lti.HandleFunc("POST /lti/legacy/{uuid}/register/{token}", s.lti2Register)
	lti.HandleFunc("GET /lti/legacy/{uuid}/register/{token}", s.postOnlyEndpoint("platforms.endpoint.lti2"))
}

type lti2ProblemPage struct {
	Page
	Problem   *Problem
	RequestID string
	// ReturnURL is the way back to the platform, telling it the registration failed.
	ReturnURL string
}

func (s *Server) lti2Register(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req := launch.ToolProxyRequest{Method: r.Method, SignedURL: s.cfg.BaseURL + r.URL.EscapedPath(), UUID: r.PathValue("uuid"),
		Token: r.PathValue("token"), RequestID: logging.RequestID(ctx)}
	r.Body = http.MaxBytesReader(w, r.Body, maxLegacyForm)
	if err := r.ParseForm(); err != nil {
		req.DecodeErr = &lti.Error{Code: lti11.CodeParamInvalid, Description: "The registration request is not a readable form",
			Fix: "the platform must POST the registration request as application/x-www-form-urlencoded", Err: err}
	} else if ps, err := lti11.RequestParams(r); err != nil {
		req.DecodeErr = &lti.Error{Code: lti11.CodeParamInvalid, Description: "The registration request's parameters cannot be read",
			Fix: "check the registration URL in the platform", Err: err}
	} else {
		req.Params, req.Form = ps, r.Form
	}
	out, err := s.cfg.Launches.RegisterToolProxy(ctx, req)
	if err == nil {
		http.Redirect(w, r, out.ReturnURL, http.StatusSeeOther)
		return
	}
	p := problemOf(err)
	if p == nil {
		s.fail(w, r, err)
		return
	}
	tr := s.printer(r)
	q := *localizeProblem(tr, p)
	q.Title = tr.T("platforms.lti2.failed")
	switch {
	case errors.Is(err, lti2.ErrProfileUnreachable), errors.Is(err, lti2.ErrToolProxyRefused), errors.Is(err, lti2.ErrToolProxyAnswer):
		q.Status = http.StatusBadGateway
	case errors.Is(err, lti11.ErrBadSignature), errors.Is(err, lti11.ErrTimestampExpired), errors.Is(err, lti11.ErrNonceReused):
		q.Status = http.StatusUnauthorized
	}
	// The launch service logged the refusal (and wrote its launch log row).
	s.render(w, r, q.Status, "lti2_registration_failed", &lti2ProblemPage{Page: Page{Title: q.Title, Embedded: isEmbedded(r)}, Problem: &q,
		RequestID: logging.RequestID(ctx), ReturnURL: out.ReturnURL})
}

// lti2RemoveToolProxy withdraws a platform's LTI 2.0 registration of a resource.
func (s *Server) lti2RemoveToolProxy(w http.ResponseWriter, r *http.Request) {
	c, res, ok := s.manageableResource(w, r)
	if !ok {
		return
	}
	tid, ok := s.pathID(w, r, "tid")
	if !ok {
		return
	}
	if err := s.cfg.Publish.RemoveToolProxy(r.Context(), currentUser(r), res.ID, tid); err != nil {
		s.publishFail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "LTI 2.0 tool proxy removed", slog.String("resource", res.UUID), slog.Int64("tool_proxy", tid))
	http.Redirect(w, r, "/courses/"+strconv.FormatInt(c.ID, 10)+"/published#legacy-"+strconv.FormatInt(res.ID, 10), http.StatusSeeOther)
}
