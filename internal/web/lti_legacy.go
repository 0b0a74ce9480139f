package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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
	app.Handle("GET /launch/legacy/account", http.HandlerFunc(s.legacyAccountChoice))
	app.Handle("POST /launch/legacy/account/signin", http.HandlerFunc(s.legacyAccountSignIn))
	app.Handle("POST /launch/legacy/account/new", http.HandlerFunc(s.legacyAccountCreate))
	app.Handle("POST /courses/{id}/published/{rid}/legacy/secret", s.requireUser(http.HandlerFunc(s.legacyRegenerateSecret)))
}

// legacyNonces keeps OAuth nonces in the launch nonce table, as issuer "lti11:<consumer key>".
type legacyNonces struct {
	store interface {
		UseNonce(ctx context.Context, issuer, nonce string, until time.Time) error
	}
}

func (n legacyNonces) UseNonce(ctx context.Context, consumerKey, nonce string, until time.Time) error {
	return n.store.UseNonce(ctx, "lti11:"+consumerKey, nonce, until)
}

// pendingLegacy is a verified 1.1 launch kept in the session while the person chooses an account.
type pendingLegacy struct {
	Message *lti.Message
	Legacy  publish.LegacyLaunch
	Mixed   string
}

// legacyLaunch checks a basic-lti-launch-request and lands it. Nothing is created before every check passed.
func (s *Server) legacyLaunch(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	entry := &launch.LogEntry{Stage: launch.StageLaunch, RequestID: logging.RequestID(ctx), Path: "lti 1.1"}
	r.Body = http.MaxBytesReader(w, r.Body, maxLegacyForm)
	if err := r.ParseForm(); err != nil {
		s.legacyRefused(w, r, entry, &lti.Error{Code: lti11.CodeParamInvalid, Description: "The launch is not a readable form",
			Fix: "the platform must POST the launch as application/x-www-form-urlencoded", Err: err})
		return
	}
	ps, err := lti11.RequestParams(r)
	if err != nil {
		s.legacyRefused(w, r, entry, &lti.Error{Code: lti11.CodeParamInvalid, Description: "The launch parameters cannot be read",
			Fix: "check the launch URL in the platform", Err: err})
		return
	}
	key := ps.Get("oauth_consumer_key")
	entry.MessageType, entry.Subject, entry.ClientID = ps.Get("lti_message_type"), ps.Get("user_id"), key
	if key != "" {
		entry.Issuer = lti11.PlatformID(key, ps.Get("tool_consumer_instance_guid"))
	}
	mixed := s.mixedProtocol(r, ps)
	if err := lti11.CheckOAuthParams(ps); err != nil {
		s.legacyRefused(w, r, entry, err)
		return
	}
	l, err := lti11.ParseLaunch(r.Form)
	if err != nil {
		s.legacyRefused(w, r, entry, err)
		return
	}
	res, err := s.cfg.Publish.LegacyResource(ctx, r.PathValue("uuid"))
	if err != nil {
		s.legacyRefused(w, r, entry, err)
		return
	}
	signed := s.cfg.BaseURL + r.URL.EscapedPath()
	v := &lti11.Verifier{Nonces: legacyNonces{s.cfg.Launches.Validator.Nonces}, Now: s.now}
	if err := v.Verify(ctx, r.Method, signed, ps, res.LegacySecret); err != nil {
		s.legacyRefused(w, r, entry, s.signatureHint(r, ps, res.LegacySecret, signed, mixed, err))
		return
	}
	m, lg := publish.LegacyMessage(l, res)
	pl := publish.Launch{Message: m, Registration: publish.LegacyRegistration(m.Issuer, lg.PlatformName), Legacy: &lg}
	s.legacyLand(w, r, pl, entry, mixed, publish.Choice{})
}

// signatureHint improves an "Invalid signature": when the signature matches another URL of this request (the
// one the server saw behind a proxy, or the other scheme), it says which, since the secret is then right.
func (s *Server) signatureHint(r *http.Request, ps lti11.Params, secret, signed, mixed string, err error) error {
	var le *lti.Error
	if !errors.Is(err, lti11.ErrBadSignature) || !errors.As(err, &le) {
		return err
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	seen := scheme + "://" + r.Host + r.URL.EscapedPath()
	alts := []string{seen}
	if strings.HasPrefix(signed, "https://") {
		alts = append(alts, "http://"+strings.TrimPrefix(signed, "https://"))
	} else {
		alts = append(alts, "https://"+strings.TrimPrefix(signed, "http://"))
	}
	hint := *le
	for _, alt := range alts {
		if alt != signed && lti11.SignatureMatches(r.Method, alt, ps, secret) {
			base, _ := lti11.BaseURI(signed)
			hint.Fix = fmt.Sprintf("the secret is right, but the platform signed %s while this tool's base URL makes it %s: "+
				"set the tool's base URL (--base-url) to the public URL the platform uses, or fix the launch URL in the platform", alt, base)
			break
		}
	}
	if mixed != "" {
		hint.Fix += ". " + mixed
	}
	return &hint
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
		return "The platform runs on https but this tool's address is http: browsers block an http page shown inside an https page " +
			"(mixed content), and warn before sending a form from a secure page to an insecure one. Serve the tool over https and use its https " +
			"launch URL in the platform."
	default:
		return "The platform runs on plain http while this tool uses https: the launch works, but the platform's pages and the " +
			"grades it receives travel unencrypted. Serve the platform over https."
	}
}

// legacyLand lands a verified launch (or a resumed one, with the person's choice).
func (s *Server) legacyLand(w http.ResponseWriter, r *http.Request, pl publish.Launch, entry *launch.LogEntry, mixed string, choice publish.Choice) {
	ctx := r.Context()
	landing, err := s.cfg.Publish.Land(ctx, pl, choice)
	var need *publish.NeedAccount
	switch {
	case errors.As(err, &need):
		if err := s.renewSession(ctx); err != nil {
			s.fail(w, r, err)
			return
		}
		b, _ := json.Marshal(pendingLegacy{Message: pl.Message, Legacy: *pl.Legacy, Mixed: mixed})
		s.sessions.Put(ctx, sessionPendingLegacy, string(b))
		s.setLaunchPresentation(ctx, pl.Message, pl.Legacy.PlatformName)
		http.Redirect(w, r, "/launch/legacy/account", http.StatusSeeOther)
		return
	case err != nil:
		s.legacyRefused(w, r, entry, err)
		return
	}
	if entry != nil {
		s.recordLegacy(ctx, entry, nil)
	}
	s.log.InfoContext(ctx, "LTI 1.1 launch landed", slog.Int64("user_id", landing.User.ID), slog.String("resource", landing.Resource.UUID),
		slog.Bool("new_account", landing.NewAccount), slog.Bool("new_enrolment", landing.NewEnrolment), slog.String("role", string(landing.Role)))
	if err := s.startLaunchedSession(ctx, landing, pl.Message, pl.Legacy.PlatformName); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sessions.Remove(ctx, sessionPendingLegacy)
	if mixed != "" {
		s.render(w, r, http.StatusOK, "lti_legacy_mixed", &legacyMixedPage{Page: Page{Title: "Before you go on", Embedded: wantsEmbedded(pl.Message)},
			Warning: mixed, Next: landingPath(landing)})
		return
	}
	http.Redirect(w, r, landingPath(landing), http.StatusSeeOther)
}

type legacyMixedPage struct {
	Page
	Warning string
	Next    string
}

// legacyRefused records a refused 1.1 launch and shows why.
func (s *Server) legacyRefused(w http.ResponseWriter, r *http.Request, entry *launch.LogEntry, err error) {
	if entry != nil {
		s.recordLegacy(r.Context(), entry, err)
	}
	var le *lti.Error
	var rf *publish.Refusal
	switch {
	case errors.As(err, &le):
		status := http.StatusBadRequest
		if errors.Is(err, lti11.ErrBadSignature) || errors.Is(err, lti11.ErrTimestampExpired) || errors.Is(err, lti11.ErrNonceReused) {
			status = http.StatusUnauthorized
		}
		s.renderProblem(w, r, &Problem{Status: status, Code: string(le.Code), Title: "This launch was refused",
			Cause: sentence(le.Description), Fix: sentence(capitalizeFirst(le.Fix)), Err: err})
	case errors.As(err, &rf):
		s.renderProblem(w, r, &Problem{Status: rf.Status, Code: rf.Code, Title: "This resource cannot be opened",
			Cause: rf.Description, Fix: rf.Fix, Err: err})
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) recordLegacy(ctx context.Context, e *launch.LogEntry, err error) {
	e.At = s.now()
	e.Outcome = launch.Accepted
	if err != nil {
		e.Outcome = launch.Refused
		var le *lti.Error
		var rf *publish.Refusal
		switch {
		case errors.As(err, &le):
			e.Code, e.Reason = string(le.Code), le.Description
		case errors.As(err, &rf):
			e.Code, e.Reason = rf.Code, rf.Description
		default:
			e.Code, e.Reason = "internal_error", err.Error()
		}
	}
	if s.cfg.Launches == nil || s.cfg.Launches.Store == nil {
		return
	}
	if rerr := s.cfg.Launches.Store.RecordLaunch(context.WithoutCancel(ctx), e); rerr != nil {
		s.log.ErrorContext(ctx, "record launch log", slog.Any("error", rerr))
	}
}

func capitalizeFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func sentence(s string) string {
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// legacyLaunchInfo answers a plain GET of a launch URL (a person pasting it in a browser, or a platform checking
// whether the URL is a cartridge) with a page, not an error.
func (s *Server) legacyLaunchInfo(w http.ResponseWriter, r *http.Request) {
	s.endpointInfo(w, r, http.StatusOK, "LTI 1.1 launch URL",
		"This address is where a learning platform sends LTI 1.1 launches (signed form posts); opening it in a browser does nothing.",
		"Set it as the tool URL of an external tool in your platform, with a consumer key of your choice and the secret shown "+
			"to the course's teachers; or import "+r.URL.Path+"/cartridge.xml as the tool's cartridge.")
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

// The account choice of the prompting provisioning modes, for 1.1 launches.

func (s *Server) pendingLegacyLaunch(r *http.Request) (*pendingLegacy, publish.Launch, publish.Resource, error) {
	raw := s.sessions.GetString(r.Context(), sessionPendingLegacy)
	if raw == "" {
		return nil, publish.Launch{}, publish.Resource{}, &Problem{Status: http.StatusBadRequest, Code: "no_pending_launch", Title: "No launch in progress",
			Cause: "This page continues a launch from your platform, but this browser has none waiting (it may have expired, or cookies may be blocked).",
			Fix:   "Go back to your platform and open the resource again."}
	}
	var p pendingLegacy
	if err := json.Unmarshal([]byte(raw), &p); err != nil || p.Message == nil {
		return nil, publish.Launch{}, publish.Resource{}, fmt.Errorf("read pending launch: %v", err)
	}
	pl := publish.Launch{Message: p.Message, Registration: publish.LegacyRegistration(p.Message.Issuer, p.Legacy.PlatformName), Legacy: &p.Legacy}
	res, err := s.cfg.Publish.FindResource(r.Context(), pl)
	return &p, pl, res, err
}

func (s *Server) legacyAccountPage(w http.ResponseWriter, r *http.Request, status int, p *pendingLegacy, res publish.Resource, username, msg string) {
	mode := res.StudentMode
	if p.Message.Roles.IsTeacherLike() {
		mode = res.TeacherMode
	}
	s.render(w, r, status, "lti_account", &accountChoicePage{Page: Page{Title: "Your account", Embedded: wantsEmbedded(p.Message)}, Action: "/launch/legacy/account",
		ResourceName: res.Name, CanCreate: mode == publish.ModePrompt, Username: username, Error: msg})
}

func (s *Server) legacyAccountChoice(w http.ResponseWriter, r *http.Request) {
	p, _, res, err := s.pendingLegacyLaunch(r)
	if err != nil {
		s.legacyRefused(w, r, nil, err)
		return
	}
	s.legacyAccountPage(w, r, http.StatusOK, p, res, "", "")
}

func (s *Server) legacyAccountSignIn(w http.ResponseWriter, r *http.Request) {
	p, pl, res, err := s.pendingLegacyLaunch(r)
	if err != nil {
		s.legacyRefused(w, r, nil, err)
		return
	}
	username := r.PostFormValue("username")
	u, err := s.cfg.Accounts.Authenticate(r.Context(), username, r.PostFormValue("password"))
	if status, msg, ok := signInRefused(err); ok {
		s.legacyAccountPage(w, r, status, p, res, username, msg)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.legacyLand(w, r, pl, nil, p.Mixed, publish.Choice{Existing: &u})
}

func (s *Server) legacyAccountCreate(w http.ResponseWriter, r *http.Request) {
	p, pl, _, err := s.pendingLegacyLaunch(r)
	if err != nil {
		s.legacyRefused(w, r, nil, err)
		return
	}
	s.legacyLand(w, r, pl, nil, p.Mixed, publish.Choice{CreateNew: true})
}

// The Legacy (LTI 1.1) details of a published resource, shown to those who manage the course.

type legacyDetails struct {
	LaunchURL    string
	CartridgeURL string
	Secret       string
}

func (s *Server) legacyDetails(res publish.Resource) legacyDetails {
	return legacyDetails{LaunchURL: publish.LegacyLaunchURL(s.cfg.BaseURL, res.UUID),
		CartridgeURL: publish.CartridgeURL(s.cfg.BaseURL, res.UUID), Secret: res.LegacySecret}
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
