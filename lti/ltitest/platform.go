package ltitest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Config configures a Platform. The zero value is usable; BaseURL must be set
// (or SetBaseURL called) before the first launch.
type Config struct {
	// BaseURL is the platform's issuer and the prefix of all its endpoints,
	// without a trailing slash, e.g. "http://127.0.0.1:8081". NewServer fills
	// it in.
	BaseURL string
	// Issuer, when set, is the platform's issuer (iss of its logins and id_tokens, aud of deep linking
	// responses, the issuer of its openid configuration) instead of BaseURL, which stays the prefix of its
	// endpoints. Canvas does this: every Instructure-hosted Canvas uses the issuer
	// https://canvas.instructure.com, whatever the instance's domain, and the registrations are told apart by
	// client_id (Canvas developer docs, LTI Launch Overview, step 1: "Instructure-hosted Canvas instances all use
	// the following, regardless of the specific account domain(s) that the tool was launched from").
	Issuer string
	// Now is the platform clock (default time.Now).
	Now func() time.Time
	// HTTPClient fetches tool JWKS documents (default: a client with a 10 s
	// timeout).
	HTTPClient *http.Client
	// Logger receives diagnostics (default: discard).
	Logger *slog.Logger
	// SigningKey is the first platform key (default: a fresh RSA 2048 key).
	// Passing one shared key makes many platforms in one test run cheap.
	SigningKey *rsa.PrivateKey
	// IDTokenTTL is exp-iat of id_tokens (default 60 s, like Moodle).
	IDTokenTTL time.Duration
	// AccessTokenTTL is the lifetime of service access tokens (default 1 h).
	AccessTokenTTL time.Duration
	// ProductFamilyCode is sent in tool_platform and the openid configuration
	// (default "ltitest").
	ProductFamilyCode string
	// ServiceQuery, when set (e.g. "type_id=3"), is appended as a query to
	// every AGS and NRPS URL the platform hands out, as Moodle does. This
	// catches tools that append "/scores" to the end of a URL.
	ServiceQuery string
	// RejectStaleScores answers 409 (like Moodle) instead of silently
	// ignoring a score whose timestamp is not after the stored one.
	RejectStaleScores bool
	// NRPSMaxPage caps the page size of membership responses (0: no cap when
	// no limit is asked for).
	NRPSMaxPage int
	// Links is how paged containers (memberships, line items) link their next
	// page: LinkQuoted (RFC 8288), LinkCurly or LinkNone. See LinkStyle.
	Links LinkStyle
	// TokenAudience, when set, is the aud the token endpoint demands in client
	// assertions instead of its token URL, and the openid configuration's
	// authorization_server (Brightspace's "OAuth2 Audience").
	TokenAudience string
	// ScoresOnlyWhenFullyGraded drops scoreGiven from every score whose
	// gradingProgress is not FullyGraded, as a platform that shows a grade
	// only once the tool says grading is done.
	ScoresOnlyWhenFullyGraded bool
	// PNS turns on the Platform Notification Service as Canvas has it: the noticehandlers scope (offered in the
	// openid configuration and granted to tools by default), the PNS claim in every launch of a tool that holds
	// the scope, a notice handler service per deployment (/pns/<deployment>), and signed notices (pns.go).
	PNS bool
}

// LinkStyle is a way of linking the pages of a container.
type LinkStyle int

const (
	// LinkQuoted: Link: <u>; rel="next" (RFC 8288; the default).
	LinkQuoted LinkStyle = iota
	// LinkCurly: Link: <u>; rel=“next” with typographic quotes, as Moodle's
	// memberships service writes it (mod/lti/service/memberships, reported in
	// 1EdTech forum threads and handled by several tool libraries).
	LinkCurly
	// LinkNone: no paging at all: the whole container in one answer, no Link
	// header, whatever limit the tool asks for.
	LinkNone
)

// Platform is an in-memory LTI 1.3 platform. It is safe for concurrent use.
type Platform struct {
	cfg     Config
	now     func() time.Time
	log     *slog.Logger
	mux     *http.ServeMux
	toolKey *keyCache

	jwksFetches atomic.Int64

	mu      sync.Mutex
	baseURL string
	keys    []*signingKey // keys[0] signs
	foreign *signingKey

	tools           map[string]*ToolConfig // by client id
	toolOrder       []string
	hints           map[string]*pendingLaunch // by login_hint
	authRequests    []AuthRequest
	lastIDToken     string
	dlSessions      map[string]*dlSession
	dlReturns       []DeepLinkReturn
	links           map[string]*StoredLink
	linkOrder       []string
	contexts        map[string]*Context
	lineItems       map[string]*lineItemState // by line item id
	lineItemOrder   []string
	tokens          map[string]*accessToken
	jtis            map[string]time.Time
	tokenReqs       []TokenRequest
	members         map[string]*roster
	regTokens       map[string]bool // token -> used
	registrations   []RegistrationRecord
	closeMessages   []CloseMessage
	returns         []ReturnVisit
	storageMessages []StorageMessage
	faults          []*Fault
	seq             int

	noticeHandlers   map[string]map[string]string // deployment -> notice type -> handler URL
	contextHistory   map[string][]string          // context -> the contexts it was copied from, nearest first
	handlerPuts      []HandlerPut
	noticeDeliveries []NoticeDelivery
}

// New returns a platform; it panics only if no RSA key can be generated.
func New(cfg Config) *Platform {
	p := &Platform{
		cfg:        cfg,
		now:        cfg.Now,
		log:        cfg.Logger,
		baseURL:    strings.TrimSuffix(cfg.BaseURL, "/"),
		tools:      map[string]*ToolConfig{},
		hints:      map[string]*pendingLaunch{},
		dlSessions: map[string]*dlSession{},
		links:      map[string]*StoredLink{},
		contexts:   map[string]*Context{},
		lineItems:  map[string]*lineItemState{},
		tokens:     map[string]*accessToken{},
		jtis:       map[string]time.Time{},
		members:    map[string]*roster{},
		regTokens:  map[string]bool{},

		noticeHandlers: map[string]map[string]string{},
		contextHistory: map[string][]string{},
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.cfg.IDTokenTTL == 0 {
		p.cfg.IDTokenTTL = 60 * time.Second
	}
	if p.cfg.AccessTokenTTL == 0 {
		p.cfg.AccessTokenTTL = time.Hour
	}
	if p.cfg.ProductFamilyCode == "" {
		p.cfg.ProductFamilyCode = "ltitest"
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	p.toolKey = newKeyCache(hc)
	k := cfg.SigningKey
	if k == nil {
		k = mustKey()
	}
	p.keys = []*signingKey{{kid: thumbprint(&k.PublicKey), priv: k}}
	p.routes()
	return p
}

func mustKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("ltitest: generate RSA key: %v", err))
	}
	return k
}

// NewServer starts the platform on an httptest server, sets its base URL and
// closes the server when the test ends.
func NewServer(t testing.TB, cfg Config) *Platform {
	t.Helper()
	p := New(cfg)
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	p.SetBaseURL(srv.URL)
	return p
}

// Serve serves the platform on l until ctx is done. If the base URL is unset
// it becomes http://<listener address>.
func (p *Platform) Serve(ctx context.Context, l net.Listener) error {
	if p.BaseURL() == "" {
		p.SetBaseURL("http://" + l.Addr().String())
	}
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve platform: %w", err)
	}
	return nil
}

// Handler returns the platform's HTTP handler.
func (p *Platform) Handler() http.Handler { return p.mux }

// SetBaseURL sets the issuer and endpoint prefix.
func (p *Platform) SetBaseURL(u string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.baseURL = strings.TrimSuffix(u, "/")
}

// BaseURL returns the base URL.
func (p *Platform) BaseURL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.baseURL
}

// Issuer returns the platform issuer: Config.Issuer, else its base URL.
func (p *Platform) Issuer() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issuerLocked()
}

func (p *Platform) issuerLocked() string {
	if p.cfg.Issuer != "" {
		return p.cfg.Issuer
	}
	return p.baseURL
}

// Endpoint URLs.
func (p *Platform) AuthURL() string     { return p.BaseURL() + "/auth" }
func (p *Platform) TokenURL() string    { return p.BaseURL() + "/token" }
func (p *Platform) JWKSURL() string     { return p.BaseURL() + "/jwks" }
func (p *Platform) RegisterURL() string { return p.BaseURL() + "/register" }
func (p *Platform) OpenIDConfigURL() string {
	return p.BaseURL() + "/.well-known/openid-configuration"
}

func (p *Platform) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /jwks", p.handleJWKS)
	m.HandleFunc("GET /auth", p.handleAuth)
	m.HandleFunc("POST /auth", p.handleAuth)
	m.HandleFunc("GET /launch", p.handleLaunchPage)
	m.HandleFunc("GET /course", p.handleCoursePage)
	m.HandleFunc("POST /token", p.handleToken)
	m.HandleFunc("/ags/{context}/lineitems", p.handleLineItems)
	m.HandleFunc("/ags/{context}/lineitems/{id}", p.handleLineItem)
	m.HandleFunc("/ags/{context}/lineitems/{id}/scores", p.handleScores)
	m.HandleFunc("/ags/{context}/lineitems/{id}/results", p.handleResults)
	m.HandleFunc("/nrps/{context}/memberships", p.handleMemberships)
	m.HandleFunc("POST /deeplink/return", p.handleDeepLinkReturn)
	m.HandleFunc("GET /.well-known/openid-configuration", p.handleOpenIDConfig)
	m.HandleFunc("POST /register", p.handleRegister)
	m.HandleFunc("GET /register-host", p.handleRegisterHost)
	m.HandleFunc("POST /register-host/closed", p.handleRegisterClosed)
	m.HandleFunc("GET /return", p.handleReturn)
	m.HandleFunc("GET /storage", p.handleStorageFrame)
	m.HandleFunc("POST /storage/log", p.handleStorageLog)
	m.HandleFunc("/pns/{deployment}", p.handleNoticeHandlers)
	p.mux = m
}

// ---- keys ----

// RotateKey makes a new signing key and returns its kid. With keepOld the
// previous keys stay in the JWKS.
func (p *Platform) RotateKey(keepOld bool) string {
	k := mustKey()
	sk := &signingKey{kid: thumbprint(&k.PublicKey), priv: k}
	p.mu.Lock()
	defer p.mu.Unlock()
	if keepOld {
		p.keys = append([]*signingKey{sk}, p.keys...)
	} else {
		p.keys = []*signingKey{sk}
	}
	return sk.kid
}

// KID returns the kid of the current signing key.
func (p *Platform) KID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[0].kid
}

// JWKSFetches counts GET /jwks requests.
func (p *Platform) JWKSFetches() int { return int(p.jwksFetches.Load()) }

// ToolJWKSFetches counts how often the platform fetched a tool JWKS URL.
func (p *Platform) ToolJWKSFetches(url string) int { return p.toolKey.count(url) }

func (p *Platform) signer() *signingKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[0]
}

func (p *Platform) foreignKey() *signingKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.foreign == nil {
		k := mustKey()
		p.foreign = &signingKey{kid: thumbprint(&k.PublicKey), priv: k}
	}
	return p.foreign
}

func (p *Platform) handleJWKS(w http.ResponseWriter, r *http.Request) {
	p.jwksFetches.Add(1)
	if handled, _ := p.applyFault(w, r, ServiceJWKS, false); handled {
		return
	}
	p.mu.Lock()
	set := jwkSet{Keys: []rsaJWK{}}
	for _, k := range p.keys {
		set.Keys = append(set.Keys, publicJWK(k.kid, &k.priv.PublicKey))
	}
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "max-age=300")
	writeJSON(w, http.StatusOK, "application/json", set)
}

// ---- tools ----

// ToolConfig is a tool registration at the platform.
type ToolConfig struct {
	ClientID      string
	DeploymentIDs []string
	// LoginURL is the tool's initiate_login_uri.
	LoginURL     string
	RedirectURIs []string
	// JWKSURL is the tool's key set, used for client assertions and deep
	// linking responses.
	JWKSURL       string
	TargetLinkURI string
	// DeepLinkURL is the target_link_uri of deep-linking requests (default
	// TargetLinkURI).
	DeepLinkURL string
	// Scopes are the service scopes the tool may obtain (default AllScopes).
	Scopes []string
	// Custom are registration-level custom parameters, merged under link
	// custom parameters at launch.
	Custom map[string]string
	Name   string
}

// RegisterTool adds or replaces a tool registration.
func (p *Platform) RegisterTool(tc ToolConfig) error {
	if tc.ClientID == "" || tc.LoginURL == "" || len(tc.RedirectURIs) == 0 || len(tc.DeploymentIDs) == 0 {
		return errors.New("register tool: ClientID, LoginURL, RedirectURIs and DeploymentIDs are required")
	}
	if tc.TargetLinkURI == "" {
		tc.TargetLinkURI = tc.RedirectURIs[0]
	}
	if tc.DeepLinkURL == "" {
		tc.DeepLinkURL = tc.TargetLinkURI
	}
	if tc.Scopes == nil {
		tc.Scopes = p.scopesSupported()
	}
	tc.DeploymentIDs = slices.Clone(tc.DeploymentIDs)
	tc.RedirectURIs = slices.Clone(tc.RedirectURIs)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.tools[tc.ClientID]; !ok {
		p.toolOrder = append(p.toolOrder, tc.ClientID)
	}
	p.tools[tc.ClientID] = &tc
	return nil
}

// Tool returns the registration of clientID.
func (p *Platform) Tool(clientID string) (ToolConfig, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.tools[clientID]
	if !ok {
		return ToolConfig{}, false
	}
	return *t, true
}

func (p *Platform) toolLocked(clientID string) (*ToolConfig, error) {
	if clientID == "" {
		if len(p.toolOrder) != 1 {
			return nil, fmt.Errorf("ltitest: %d tools registered: set ClientID", len(p.toolOrder))
		}
		clientID = p.toolOrder[0]
	}
	t, ok := p.tools[clientID]
	if !ok {
		return nil, fmt.Errorf("ltitest: unknown client_id %q", clientID)
	}
	return t, nil
}

func (p *Platform) nextIDLocked(prefix string) string {
	p.seq++
	return fmt.Sprintf("%s%d", prefix, p.seq)
}

// ---- helpers ----

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "marshal: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
