package web

// Launches that work without third-party cookies.
//
// A platform usually shows ltipub in an iframe on its own site, where browsers block (or partition) ltipub's
// cookies. The launch then needs another proof that the browser posting the id_token is the one that started
// the login, and the launched session needs a way to survive:
//
//   - Cookie: the state cookie (SameSite=None; Secure; Partitioned on https) came back. The usual path, and the
//     only one for top-level logins, which still get a bare redirect.
//   - Platform storage: a framed login (or one that names lti_storage_target) gets a small page instead of a
//     redirect. It asks the server whether the state cookie came back; if not and the platform offers its
//     postMessage storage, it keeps lti_state_<state> (and lti_nonce_<nonce>) there, then continues to the
//     platform. At the launch, no cookie comes back, so the server validates nothing yet and answers a page
//     that reads the value back with lti.get_data and posts the response again, with its finding, to
//     /lti/launch/storage. That post must come from ltipub's own page (Sec-Fetch-Site: same-origin, or an
//     Origin naming ltipub): a cross-site page cannot make one, so the finding cannot be forged by the
//     attacker a state check defends against. The server then claims the state (single use, expiry), checks
//     the finding and validates the id_token with the nonce exactly as on the cookie path.
//   - New window: when neither works, the login page says so in plain words and offers to start the same login
//     again in a new top-level window (same login parameters, plus ltipub_window=1), where the state cookie is
//     first-party. The new window's state is marked, so its launch is logged as "new window"; a new-window
//     login never offers another new window, so there is no loop.
//
// Every message is posted to the platform's origin (the origin of the registration's authentication URL), never
// '*', and every message received is checked against it.
//
// After a validated launch in a frame, the session cookie may still be refused. The launch then answers a page
// that asks the server whether the session cookie came back (GET /lti/session/check); if not, it offers to
// continue this launch in a new window with a ticket: signed by a key derived from the tool's own keys, valid for
// two minutes, single use (the nonce table), accepted only from a same-origin post, and only issued after the
// browser was proven. The ticket is not a way around the browser proof: a framed launch without a proof never
// gets one; it starts the login again instead.
//
// This file is the browser's side: the pages, the decoding of their posts, the session. What the server decides —
// the storage proof, the fallback record, the tickets — is internal/launch (launch.go, window.go).

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/logging"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
)

const (
	// newWindowParam marks a login started again in a new top-level window.
	newWindowParam = "ltipub_window"
	// storageTimeout is how long the pages wait for each answer of the platform's storage.
	storageTimeout = 1500 * time.Millisecond
	// sessionLaunched marks a session started by a launch, for the check that its cookie came back.
	sessionLaunched = "lti_launched"
)

func (s *Server) ltiStorageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /lti/login/cookie", s.ltiLoginCookie)
	mux.HandleFunc("POST /lti/login/fallback", s.ltiLoginFallback)
	mux.HandleFunc("POST /lti/launch/storage", s.ltiLaunchStorage)
	mux.HandleFunc("GET /lti/session/check", s.ltiSessionCheck)
	mux.HandleFunc("POST /lti/window", s.ltiWindow)
}

type formField struct{ Name, Value string }

type ltiLoginPage struct {
	Page
	Platform       string
	PlatformOrigin string
	State          string
	StateKey       string
	Nonce          string
	NonceKey       string
	StorageTarget  string
	TimeoutMS      int64
	AuthAction     string
	AuthFields     []formField
	// NewWindow: this login already runs in a window of its own; no further window is offered.
	NewWindow    bool
	WindowMethod string
	WindowFields []formField
}

// loginPage answers a framed login: the page (static/lti_storage.js) finds a path that works and continues to
// the platform, or explains and offers a new window.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, li lti.LoginInitiation, res launch.LoginResult, newWindow bool) {
	auth, err := url.Parse(res.RedirectURL)
	if err != nil {
		s.fail(w, r, fmt.Errorf("parse authentication request URL: %w", err))
		return
	}
	p := &ltiLoginPage{Page: Page{Title: s.t(r, "lti_login.title"), Embedded: true},
		Platform: platformLabel(res.Registration), PlatformOrigin: res.PlatformOrigin,
		State: res.State, StateKey: launch.StorageKey(res.State), Nonce: res.Nonce, NonceKey: launch.StorageNonceKey(res.Nonce),
		StorageTarget: li.StorageTarget, TimeoutMS: storageTimeout.Milliseconds(), NewWindow: newWindow,
		AuthFields: fields(auth.Query()), WindowMethod: "get"}
	auth.RawQuery, auth.Fragment = "", ""
	p.AuthAction = auth.String()
	// The new window repeats the platform's login initiation as it came (the hints are the platform's), minus
	// the storage target: the new window's opener is ltipub's frame, not the platform.
	again := url.Values{}
	for k, v := range map[string]string{"iss": li.Issuer, "login_hint": li.LoginHint, "target_link_uri": li.TargetLinkURI,
		"lti_message_hint": li.LTIMessageHint, "lti_deployment_id": li.DeploymentID, "client_id": li.ClientID} {
		if v != "" {
			again.Set(k, v)
		}
	}
	again.Set(newWindowParam, "1")
	p.WindowFields = fields(again)
	if r.Method == http.MethodPost {
		p.WindowMethod = "post"
	}
	s.render(w, r, http.StatusOK, "lti_login", p)
}

func fields(v url.Values) []formField {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []formField
	for _, k := range keys {
		for _, val := range v[k] {
			out = append(out, formField{k, val})
		}
	}
	return out
}

func platformLabel(reg tool.Registration) string {
	switch {
	case reg.PlatformName != "":
		return reg.PlatformName
	case reg.Name != "":
		return reg.Name
	}
	return "your platform"
}

// ltiLoginCookie tells the login page whether the state cookie it was served with came back.
func (s *Server) ltiLoginCookie(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	c, err := r.Cookie(stateCookiePrefix + state)
	ok := state != "" && err == nil && c.Value == state
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, map[string]bool{"cookie": ok})
}

// ltiLoginFallback records, for the launch log, that a login page found neither cookies nor platform storage
// and offered a new window (so admins see how many launches would have failed).
func (s *Server) ltiLoginFallback(w http.ResponseWriter, r *http.Request) {
	if !sameOriginPost(r, s.cfg.BaseURL) {
		http.Error(w, "not from ltipub's own page", http.StatusForbidden)
		return
	}
	err := s.cfg.Launches.RecordFallback(r.Context(), r.PostFormValue("state"), r.PostFormValue("reason"), r.PostFormValue("detail"),
		logging.RequestID(r.Context()))
	if err != nil {
		http.Error(w, "unknown login", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type ltiStorageLaunchPage struct {
	Page
	Platform       string
	PlatformOrigin string
	State          string
	StateKey       string
	StorageTarget  string
	TimeoutMS      int64
	IDToken        string
}

// storageLaunchPage answers a launch whose login kept its state in the platform's storage and whose cookie did
// not come back: it validates nothing, claims nothing, and lets the browser look the state up.
func (s *Server) storageLaunchPage(w http.ResponseWriter, r *http.Request, resp lti.AuthResponse, sl launch.StorageLaunch) {
	st := sl.State
	s.render(w, r, http.StatusOK, "lti_launch_storage", &ltiStorageLaunchPage{Page: Page{Title: s.t(r, "storage.title"), Embedded: true},
		Platform: platformLabel(sl.Registration), PlatformOrigin: sl.PlatformOrigin, State: st.State, StateKey: launch.StorageKey(st.State),
		StorageTarget: st.StorageTarget, TimeoutMS: storageTimeout.Milliseconds(), IDToken: resp.IDToken})
}

// ltiLaunchStorage finishes a launch confirmed (or not) through the platform's storage.
func (s *Server) ltiLaunchStorage(w http.ResponseWriter, r *http.Request) {
	resp, err := lti.ParseAuthResponse(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	proof := &launch.StorageProof{SameOrigin: sameOriginPost(r, s.cfg.BaseURL), Outcome: r.PostFormValue("lti_storage_outcome"),
		Value: r.PostFormValue("lti_storage_value"), Detail: r.PostFormValue("lti_storage_detail")}
	s.launch(w, r, resp, launch.BrowserCheck{Storage: proof})
}

// sameOriginPost reports whether the browser says a request came from one of ltipub's own pages.
func sameOriginPost(r *http.Request, baseURL string) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "":
		own, err := launch.Origin(baseURL)
		return err == nil && r.Header.Get("Origin") == own
	}
	return false
}

// afterLaunch sends a launched browser on. A launch answered inside a frame, or proven through platform
// storage, first gets a page that checks whether the session cookie came back; if not, it offers to continue in
// a new window (with a ticket for a landed resource link).
func (s *Server) afterLaunch(w http.ResponseWriter, r *http.Request, out *launch.Outcome) {
	launchPost := r.URL.Path == "/lti/launch" || r.URL.Path == "/lti/deeplink" || r.URL.Path == "/lti/launch/storage"
	if !launchPost || (!framed(r) && out.Launch.Path != launch.PathPlatformStorage) {
		http.Redirect(w, r, out.To, http.StatusSeeOther)
		return
	}
	s.sessions.Put(r.Context(), sessionLaunched, true)
	p := &ltiLandedPage{Page: Page{Title: s.t(r, "web_titles.opening_resource"), Embedded: true}, To: out.To,
		Platform: platformLabel(out.Launch.Registration)}
	if out.Kind == launch.Landed {
		t, err := s.cfg.Launches.Ticket(r.Context(), out.Launch, out.Session, out.To)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.Ticket = t
	}
	s.render(w, r, http.StatusOK, "lti_landed", p)
}

type ltiLandedPage struct {
	Page
	To       string
	Platform string
	Ticket   string
}

// ltiSessionCheck tells the landing page whether the launched session's cookie came back.
func (s *Server) ltiSessionCheck(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, map[string]bool{"session": s.sessions.GetBool(r.Context(), sessionLaunched)})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// ltiWindow continues a landed launch in a new top-level window: it redeems the ticket once and starts the
// session there, where the cookie is first-party.
func (s *Server) ltiWindow(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, to, err := s.cfg.Launches.RedeemTicket(ctx, r.PostFormValue("ticket"), sameOriginPost(r, s.cfg.BaseURL), logging.RequestID(ctx))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	s.sessions.Put(ctx, sessionUserID, sess.UserID)
	s.sessions.Put(ctx, sessionScope, sess.Scope)
	s.sessions.Put(ctx, sessionEmbedded, false)
	if sess.ReturnURL != "" {
		s.sessions.Put(ctx, sessionReturnURL, sess.ReturnURL)
		s.sessions.Put(ctx, sessionReturnName, sess.ReturnName)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
