package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/logging"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
)

// Legacy publishing (LTI 1.1): OAuth 1.0a signed launches to /lti/legacy/{uuid}, the cartridge URL, the account
// choice of the prompting provisioning modes, and the Legacy details of the Published as LTI tools pages.
//
// The resource is named in the launch URL's path rather than in a custom parameter: its secret must be known
// before the signature can be checked, the consumer key is free text, and a URL is the one thing every 1.1
// platform (and a cartridge import) carries over intact.

// sessionPendingLegacy holds a verified 1.1 launch waiting for the person's account choice.
const sessionPendingLegacy = "lti_pending_legacy"

// maxLegacyForm bounds a launch form.
const maxLegacyForm = 1 << 20

func (s *Server) legacyRoutes(app, ltiMux *http.ServeMux) {
	ltiMux.HandleFunc("POST /lti/legacy/{uuid}", s.legacyLaunch)
	ltiMux.HandleFunc("GET /lti/legacy/{uuid}", s.legacyLaunchInfo)
	ltiMux.HandleFunc("GET /lti/legacy/{uuid}/cartridge.xml", s.legacyCartridge)
	s.accountRoutes(app, "/launch/legacy/account", sessionPendingLegacy)
	app.Handle("POST /courses/{id}/published/{rid}/legacy/secret", s.requireUser(http.HandlerFunc(s.legacyRegenerateSecret)))
	s.lti2Routes(app, ltiMux) // LTI 2.0 registration (lti_lti2.go)
}

// legacyLaunch decodes a basic-lti-launch-request; the launch service checks and lands it.
func (s *Server) legacyLaunch(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req := launch.LegacyRequest{Method: r.Method, SignedURL: s.cfg.BaseURL + r.URL.EscapedPath(), UUID: r.PathValue("uuid"),
		Prev: s.prevSession(r), RequestID: logging.RequestID(ctx)}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	req.SeenURL = scheme + "://" + r.Host + r.URL.EscapedPath()
	r.Body = http.MaxBytesReader(w, r.Body, maxLegacyForm)
	if err := r.ParseForm(); err != nil {
		req.DecodeErr = &lti.Error{Code: lti11.CodeParamInvalid, Description: "The launch is not a readable form",
			Fix: "the platform must POST the launch as application/x-www-form-urlencoded", Err: err}
	} else if ps, err := lti11.RequestParams(r); err != nil {
		req.DecodeErr = &lti.Error{Code: lti11.CodeParamInvalid, Description: "The launch parameters cannot be read",
			Fix: "check the launch URL in the platform", Err: err}
	} else {
		req.Params, req.Form, req.Mixed = ps, r.Form, s.mixedProtocol(r, ps)
	}
	out, err := s.cfg.Launches.Legacy(ctx, req)
	s.outcome(w, r, out, err)
}

// mixedProtocol explains, when the platform is on https and the tool on http (or the reverse), why the browser
// may block the launch. It is "" when both use the same scheme or the platform's cannot be told.
func (s *Server) mixedProtocol(r *http.Request, ps lti11.Params) string {
	tool := "http"
	if strings.HasPrefix(s.cfg.BaseURL, "https://") {
		tool = "https"
	}
	var platform string
	for _, raw := range []string{r.Header.Get("Origin"), r.Header.Get("Referer"), ps.Get("launch_presentation_return_url"),
		ps.Get("tool_consumer_instance_url"), ps.Get("lis_outcome_service_url")} {
		if u, err := url.Parse(raw); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			platform = u.Scheme
			break
		}
	}
	switch {
	case platform == "" || platform == tool:
		return ""
	case tool == "http":
		return mixedToolHTTP
	default:
		return mixedPlatformHTTP
	}
}

// The mixed http/https warnings (the launch carries the words; lti_legacy_mixed shows them in the page's language).
const (
	mixedToolHTTP = "The platform runs on https but this tool's address is http: browsers block an http page shown inside an https page " +
		"(mixed content), and warn before sending a form from a secure page to an insecure one. Serve the tool over https and use its https " +
		"launch URL in the platform."
	mixedPlatformHTTP = "The platform runs on plain http while this tool uses https: the launch works, but the platform's pages and the " +
		"grades it receives travel unencrypted. Serve the platform over https."
)

type legacyMixedPage struct {
	Page
	Warning string
	Next    string
}

// legacyLaunchInfo answers a plain GET of a launch URL (a person pasting it in a browser, or a platform checking
// whether the URL is a cartridge) with a page, not an error.
func (s *Server) legacyLaunchInfo(w http.ResponseWriter, r *http.Request) {
	s.endpointInfo(w, r, http.StatusOK, "platforms.endpoint.legacy", "Cartridge", r.URL.Path+"/cartridge.xml")
}

// legacyCartridge serves the resource's basic LTI link cartridge.
func (s *Server) legacyCartridge(w http.ResponseWriter, r *http.Request) {
	res, err := s.cfg.Publish.Store.ResourceByUUID(r.Context(), r.PathValue("uuid"))
	if err != nil {
		http.Error(w, "No published resource has this address.", http.StatusNotFound)
		return
	}
	desc := res.Name + ", published from ltipub."
	if c, err := s.cfg.Courses.Store.CourseByID(r.Context(), res.CourseID); err == nil && c.Summary != "" {
		desc = c.Summary
	}
	launchURL := publish.LegacyLaunchURL(s.cfg.BaseURL, res.UUID)
	cc := lti11.Cartridge{Title: res.Name, Description: desc, LaunchURL: launchURL,
		Icon: s.cfg.BaseURL + staticURL("logo.png"),
		Vendor: lti11.Vendor{Code: "ltipub", Name: "ltipub", Description: "Courses and activities published as LTI tools",
			URL: s.cfg.BaseURL}}
	if strings.HasPrefix(s.cfg.BaseURL, "https://") {
		cc.SecureLaunchURL, cc.SecureIcon = launchURL, cc.Icon
	}
	cc.Extensions = map[string]map[string]string{"moodle": {"icon_url": cc.Icon}}
	if cc.SecureIcon != "" {
		cc.Extensions["moodle"]["secure_icon_url"] = cc.SecureIcon
	}
	b, err := cc.XML()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// The Legacy (LTI 1.1) details of a published resource, shown to those who manage the course.

type legacyDetails struct {
	LaunchURL    string
	CartridgeURL string
	Secret       string
	// RegistrationURL is the LTI 2.0 registration URL (Moodle's "Proxy URL"; lti_lti2.go).
	RegistrationURL string
	// ToolProxies are the platforms registered over LTI 2.0 (filled by the list page).
	ToolProxies []publish.ToolProxy
}

func (s *Server) legacyDetails(res publish.Resource) legacyDetails {
	return legacyDetails{LaunchURL: publish.LegacyLaunchURL(s.cfg.BaseURL, res.UUID),
		CartridgeURL: publish.CartridgeURL(s.cfg.BaseURL, res.UUID), Secret: res.LegacySecret,
		RegistrationURL: publish.RegistrationURL(s.cfg.BaseURL, res)}
}

func (s *Server) legacyRegenerateSecret(w http.ResponseWriter, r *http.Request) {
	c, res, ok := s.manageableResource(w, r)
	if !ok {
		return
	}
	if _, err := s.cfg.Publish.RegenerateLegacySecret(r.Context(), currentUser(r), res.ID); err != nil {
		s.publishFail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "LTI 1.1 secret regenerated", slog.String("resource", res.UUID))
	http.Redirect(w, r, "/courses/"+strconv.FormatInt(c.ID, 10)+"/published#legacy-"+strconv.FormatInt(res.ID, 10), http.StatusSeeOther)
}
