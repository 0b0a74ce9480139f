package tool

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/internal/safehttp"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/lti"
)

// RegistrationToken is the state of a registration's dynamic registration token.
type RegistrationToken struct {
	ExpiresAt time.Time
	Used      bool
}

// AdminStore is what the registration service needs beyond Store.
type AdminStore interface {
	Store
	SetRegistrationToken(ctx context.Context, id int64, hash string, expiresAt time.Time) error
	RegistrationByTokenHash(ctx context.Context, hash string) (Registration, RegistrationToken, error)
	// ClaimRegistrationToken marks a usable token used; store.ErrConflict when it is not usable (any more).
	ClaimRegistrationToken(ctx context.Context, id int64, hash string, now time.Time) error
	RestoreRegistrationToken(ctx context.Context, id int64, hash string, expiresAt time.Time) error
	// SaveRegistration saves r's fields and adds deployments in one transaction.
	SaveRegistration(ctx context.Context, r Registration, add []Deployment) error
	// LaunchCounts counts a registration's launch log lines and its accepted launches.
	LaunchCounts(ctx context.Context, registrationID int64) (lines, accepted int, err error)
	// DeleteRegistrationKeepLog deletes a registration with its deployments and keeps its launch log lines.
	DeleteRegistrationKeepLog(ctx context.Context, id int64) error
}

// Service holds the rules of registrations: creating them, validating platform details, deployments, dynamic
// registration, and which origins may frame the tool.
type Service struct {
	Store AdminStore
	// HTTP is the guarded client for URLs the platform supplies (its OpenID configuration, its registration
	// endpoint).
	HTTP *http.Client
	// BaseURL is ltipub's public URL, without a trailing slash.
	BaseURL string
	// AllowPrivateURLs (development) accepts http URLs and loopback or private hosts in platform details.
	AllowPrivateURLs bool
	// ToolName is the client_name sent in dynamic registration ("ltipub" when empty).
	ToolName string
	// TokenTTL is how long a registration URL stays valid (DefaultTokenTTL when zero).
	TokenTTL time.Duration
	// Checks keeps the results of "Check this registration"; SigningKey is the tool's active key, which signs
	// the check's service token requests. Both are needed by Check only.
	Checks     CheckStore
	SigningKey func(ctx context.Context) (lti.SigningKey, error)
	Log        *slog.Logger
	Now        func() time.Time

	mu            sync.Mutex
	origins       []string
	originsExpire time.Time
}

// DefaultTokenTTL is how long a registration URL stays valid: long enough to copy it into a platform's form
// after a meeting, short enough that a forgotten one dies.
const DefaultTokenTTL = 7 * 24 * time.Hour

// frameOriginsCacheFor is how stale the framing policy may be: it is read on every page, and another instance's
// change is seen after it.
const frameOriginsCacheFor = 5 * time.Second

// ToolURLs are the URLs a platform needs to know about ltipub.
type ToolURLs struct {
	Registration string `json:"registration_url,omitempty"`
	Tool         string `json:"tool_url"`
	Login        string `json:"login_url"`
	JWKS         string `json:"jwks_url"`
	DeepLinking  string `json:"deep_linking_url"`
}

// URLs gives the tool's URLs; the registration URL only when token is given (it is shown once, when made).
func (s *Service) URLs(token string) ToolURLs {
	u := ToolURLs{Tool: s.BaseURL + "/lti/launch", Login: s.BaseURL + "/lti/login", JWKS: s.BaseURL + "/lti/jwks",
		DeepLinking: s.BaseURL + "/lti/deeplink"}
	if token != "" {
		u.Registration = s.RegistrationURL(token)
	}
	return u
}

// RegistrationURL is the dynamic registration URL for a token. The token sits in the path, so that platforms
// that append their own query string with "?" cannot break it.
func (s *Service) RegistrationURL(token string) string { return s.BaseURL + "/lti/register/" + token }

// ValidationError lists what is wrong with a form, by field, for the page to show next to each field.
type ValidationError struct {
	Fields map[string]string // field → the English, for logs and the CLI
	// Codes name each field's mistake for the message catalogs ("validation.<code>") and Args hold the details
	// its message names, for pages in the reader's language (see course.ValidationError). A "Label" arg is the
	// field whose form label the message names.
	Codes map[string]string
	Args  map[string]map[string]any
}

// fieldError makes a ValidationError of one field.
func fieldError(field, code, msg string, args ...any) *ValidationError {
	ve := &ValidationError{Fields: map[string]string{}, Codes: map[string]string{}, Args: map[string]map[string]any{}}
	ve.add(field, code, msg, args...)
	return ve
}

// add records field's mistake: its English, its code and its args (name, value pairs).
func (e *ValidationError) add(field, code, msg string, args ...any) {
	e.Fields[field], e.Codes[field] = msg, code
	if len(args) > 0 {
		a := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			k, _ := args[i].(string)
			a[k] = args[i+1]
		}
		e.Args[field] = a
	}
}

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return strings.Join(parts, "; ")
}

// Refusal is a request the registration rules refuse, with what a person should read: the cause and the fix. It
// is the domain's one refusal type (internal/refusal).
type Refusal = refusal.Refusal

// ErrLastDeploymentInUse refuses removing the last deployment of a registration that has launched: the
// platform's links would stop working. Removing it anyway needs confirmation.
var ErrLastDeploymentInUse = errors.New("last deployment of a registration in use")

// ErrDuplicatePlatform means another registration already has the issuer and client ID.
var ErrDuplicatePlatform = errors.New("issuer and client ID already registered")

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) tokenTTL() time.Duration {
	if s.TokenTTL > 0 {
		return s.TokenTTL
	}
	return DefaultTokenTTL
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Create makes a pending registration named name and its first registration URL token (returned once; only
// its hash is stored).
func (s *Service) Create(ctx context.Context, name string) (Registration, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Registration{}, "", fieldError("name", "platform.name_required", "Give the platform a name, such as \"Moodle (production)\".")
	}
	if len(name) > 200 {
		return Registration{}, "", fieldError("name", "platform.name_long", "Keep the name under 200 characters.")
	}
	r := Registration{Name: name}
	if err := s.Store.CreateRegistration(ctx, &r); err != nil {
		return Registration{}, "", err
	}
	tok, err := s.NewRegistrationToken(ctx, r.ID)
	if err != nil {
		return Registration{}, "", err
	}
	s.log().InfoContext(ctx, "registration created", slog.Int64("registration_id", r.ID), slog.String("name", name))
	return r, tok, nil
}

// NewRegistrationToken issues a fresh registration URL token for registration id; the previous one stops working.
func (s *Service) NewRegistrationToken(ctx context.Context, id int64) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	if err := s.Store.SetRegistrationToken(ctx, id, hashToken(tok), s.now().Add(s.tokenTTL())); err != nil {
		return "", err
	}
	return tok, nil
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// Get loads one registration.
func (s *Service) Get(ctx context.Context, id int64) (Registration, error) {
	return s.Store.Registration(ctx, id)
}

// RegistrationFilter selects a page of the registrations: Query is a part of the name, issuer or client ID;
// Status is "Active", "Pending" or "" (either).
type RegistrationFilter struct {
	Query  string
	Status string
	Offset int
	Limit  int
}

// ListPage loads one page of the registrations, with the number that match.
func (s *Service) ListPage(ctx context.Context, f RegistrationFilter) ([]Registration, int, error) {
	f.Query = strings.TrimSpace(f.Query)
	return s.Store.RegistrationsPage(ctx, f)
}

// List loads every registration.
func (s *Service) List(ctx context.Context) ([]Registration, error) {
	return s.Store.Registrations(ctx)
}

// PlatformDetails is the platform's side of a manual registration.
type PlatformDetails struct {
	Issuer   string
	ClientID string
	JWKSURL  string
	TokenURL string
	AuthURL  string
	// TokenAudience is the aud ltipub's signed token request must carry when the platform names one other than
	// its token URL (Brightspace: "Brightspace OAuth2 Audience"). Optional: empty means the token URL.
	TokenAudience string
}

// SetPlatformDetails validates and saves the platform details of registration id. Every field is required; URLs
// must be absolute https URLs (http and loopback or private hosts only with AllowPrivateURLs); the issuer and
// client ID pair must not belong to another registration.
func (s *Service) SetPlatformDetails(ctx context.Context, id int64, d PlatformDetails) (Registration, error) {
	d.Issuer, d.ClientID = strings.TrimSpace(d.Issuer), strings.TrimSpace(d.ClientID)
	d.JWKSURL, d.TokenURL, d.AuthURL = strings.TrimSpace(d.JWKSURL), strings.TrimSpace(d.TokenURL), strings.TrimSpace(d.AuthURL)
	d.TokenAudience = strings.TrimSpace(d.TokenAudience)
	ve := &ValidationError{Fields: map[string]string{}, Codes: map[string]string{}, Args: map[string]map[string]any{}}
	if len(d.TokenAudience) > 1024 {
		ve.add("token_audience", "platform.audience_long", "Token audience is at most 1024 characters; copy it again from the platform (or leave it empty).")
	}
	check := func(field, label, v string, issuer bool) {
		if msg, code, args := s.checkURL(label, v, issuer); msg != "" {
			ve.add(field, code, msg, append([]any{"Label", field}, args...)...)
		}
	}
	check("issuer", "Platform ID (issuer)", d.Issuer, true)
	check("jwks_url", "Public keyset URL", d.JWKSURL, false)
	check("token_url", "Access token URL", d.TokenURL, false)
	check("auth_url", "Authentication request URL", d.AuthURL, false)
	switch {
	case d.ClientID == "":
		ve.add("client_id", "platform.client_id_required", "Client ID is required: the platform shows it after you add the tool.")
	case len(d.ClientID) > 255 || strings.ContainsFunc(d.ClientID, func(r rune) bool { return r < 0x21 || r > 0x7e }):
		ve.add("client_id", "platform.client_id_chars", "Client ID must be at most 255 printable ASCII characters without spaces; copy it again from the platform.")
	}
	if len(ve.Fields) > 0 {
		return Registration{}, ve
	}
	r, err := s.Store.Registration(ctx, id)
	if err != nil {
		return Registration{}, err
	}
	if err := s.checkUnique(ctx, id, d.Issuer, d.ClientID); err != nil {
		return Registration{}, err
	}
	r.Issuer, r.ClientID, r.JWKSURL, r.TokenURL, r.AuthURL = d.Issuer, d.ClientID, d.JWKSURL, d.TokenURL, d.AuthURL
	r.TokenAudience = d.TokenAudience
	if err := s.save(ctx, r, nil); err != nil {
		return Registration{}, err
	}
	s.log().InfoContext(ctx, "registration platform details saved", slog.Int64("registration_id", id),
		slog.String("issuer", r.Issuer), slog.String("client_id", r.ClientID))
	return s.Store.Registration(ctx, id)
}

// checkURL returns what is wrong with a URL field (its English, its catalog code and args), or "".
func (s *Service) checkURL(label, v string, issuer bool) (msg, code string, args []any) {
	if v == "" {
		return label + " is required.", "url.required", nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		if issuer {
			return label + " must be an absolute URL such as https://lms.example.edu.", "url.absolute_issuer", nil
		}
		return label + " must be an absolute URL such as https://lms.example.edu/path.", "url.absolute", nil
	}
	if lti.NonCanonicalIPv4(u.Hostname()) {
		return fmt.Sprintf("%s has the host %q, which is an IP address written in an unusual way (browsers and resolvers read it as "+
				"an IPv4 address). Use the platform's host name, or write the address as four decimal numbers such as 192.0.2.10.", label, u.Hostname()),
			"url.odd_ipv4", []any{"Host", u.Hostname()}
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && s.AllowPrivateURLs) {
		if u.Scheme == "http" {
			return label + " must use https (http is accepted only when the server runs with --allow-private-urls, for development).", "url.http", nil
		}
		return label + " must be an https URL.", "url.https", nil
	}
	if u.Fragment != "" || (issuer && u.RawQuery != "") {
		if issuer {
			return label + " must not have a query or fragment.", "url.query_issuer", nil
		}
		return label + " must not have a fragment.", "url.fragment", nil
	}
	if !s.AllowPrivateURLs && !publicHost(u.Hostname()) {
		return label + " points to a loopback or private address, which the tool will not contact (allowed only with --allow-private-urls, for development).", "url.private", nil
	}
	return "", "", nil
}

// publicHost reports whether a host name is not obviously internal. Names that resolve to internal addresses are
// caught when the guarded client dials.
func publicHost(h string) bool {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return false
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return safehttp.Public(a)
	}
	return true
}

func (s *Service) checkUnique(ctx context.Context, id int64, issuer, clientID string) error {
	others, err := s.Store.RegistrationsByIssuer(ctx, issuer)
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID != id && o.ClientID == clientID {
			return duplicate(o, issuer, clientID, nil)
		}
	}
	return nil
}

func duplicate(other Registration, issuer, clientID string, err error) error {
	name := "another registration"
	if other.ID != 0 {
		name = fmt.Sprintf("the registration %q", other.Name)
	}
	return &Refusal{Code: "platform_duplicate", Kind: refusal.Conflict, Audience: refusal.Admin, Title: "This platform is already registered",
		Description: fmt.Sprintf("Issuer %s with client ID %s already belongs to %s.", issuer, clientID, name),
		Fix:         "Edit or delete that registration instead; a platform gives each registration of the tool its own client ID.",
		Args:        map[string]any{"Issuer": issuer, "ClientID": clientID, "Name": name},
		Err:         errors.Join(ErrDuplicatePlatform, err)}
}

// save writes r (and new deployments) and maps a lost race on the unique index to the duplicate refusal.
func (s *Service) save(ctx context.Context, r Registration, add []Deployment) error {
	err := s.Store.SaveRegistration(ctx, r, add)
	if errors.Is(err, store.ErrAlreadyExists) {
		return duplicate(Registration{}, r.Issuer, r.ClientID, err)
	}
	if err == nil {
		s.invalidateOrigins()
	}
	return err
}

// AddDeployment adds a deployment ID (case-sensitive, at most 255 ASCII characters) with an optional name.
func (s *Service) AddDeployment(ctx context.Context, id int64, deploymentID, name string) (Registration, error) {
	deploymentID, name = strings.TrimSpace(deploymentID), strings.TrimSpace(name)
	switch {
	case deploymentID == "":
		return Registration{}, fieldError("deployment_id", "deployment.id_required", "Deployment ID is required: the platform shows it for the tool (Moodle: the tool's deployment ID; Canvas: in the app's configuration).")
	case len(deploymentID) > 255 || strings.ContainsFunc(deploymentID, func(r rune) bool { return r < 0x20 || r > 0x7e }):
		return Registration{}, fieldError("deployment_id", "deployment.id_chars", "Deployment ID must be at most 255 printable ASCII characters.")
	case len(name) > 200:
		return Registration{}, fieldError("deployment_name", "platform.name_long", "Keep the name under 200 characters.")
	}
	r, err := s.Store.Registration(ctx, id)
	if err != nil {
		return Registration{}, err
	}
	if r.HasDeployment(deploymentID) {
		return Registration{}, fieldError("deployment_id", "deployment.id_listed", fmt.Sprintf("Deployment ID %q is already listed.", deploymentID), "Value", deploymentID)
	}
	if err := s.Store.AddDeployment(ctx, &Deployment{RegistrationID: id, DeploymentID: deploymentID, Name: name}); err != nil {
		return Registration{}, err
	}
	s.invalidateOrigins()
	s.log().InfoContext(ctx, "deployment added", slog.Int64("registration_id", id), slog.String("deployment_id", deploymentID))
	return s.Store.Registration(ctx, id)
}

// RemoveDeployment removes a deployment ID. The rule: the last deployment of a registration that has accepted
// launches in the launch log is removed only when confirmed, because the platform's existing links stop working
// (the registration turns Pending). Without confirmation it fails with ErrLastDeploymentInUse.
func (s *Service) RemoveDeployment(ctx context.Context, id int64, deploymentID string, confirmed bool) error {
	r, err := s.Store.Registration(ctx, id)
	if err != nil {
		return err
	}
	if !r.HasDeployment(deploymentID) {
		return &Refusal{Code: "deployment_unknown", Kind: refusal.NotFound, Audience: refusal.Admin, Title: "No such deployment",
			Description: fmt.Sprintf("Registration %q has no deployment ID %q.", r.Name, deploymentID),
			Fix:         "Check the deployment ID in the Deployments tab.", Err: store.ErrNotFound,
			Args: map[string]any{"Name": r.Name, "ID": deploymentID}}
	}
	if len(r.Deployments) == 1 && !confirmed {
		_, accepted, err := s.Store.LaunchCounts(ctx, id)
		if err != nil {
			return err
		}
		if accepted > 0 {
			return &Refusal{Code: "last_deployment_in_use", Kind: refusal.Conflict, Audience: refusal.Admin, Title: "This is the last deployment of a registration in use",
				Description: fmt.Sprintf("Deployment %q is the last one of %q, which has %d accepted launches in the launch log. Without a deployment the registration turns Pending and every link in the platform stops launching.", deploymentID, r.Name, accepted),
				Fix:         "Add the new deployment first, or confirm the removal if the platform no longer uses this tool.",
				Args:        map[string]any{"ID": deploymentID, "Name": r.Name, "Count": accepted},
				Err:         ErrLastDeploymentInUse}
		}
	}
	if err := s.Store.RemoveDeployment(ctx, id, deploymentID); err != nil {
		return err
	}
	s.invalidateOrigins()
	s.log().InfoContext(ctx, "deployment removed", slog.Int64("registration_id", id), slog.String("deployment_id", deploymentID))
	return nil
}

// Dependents is what deleting a registration affects.
type Dependents struct {
	Deployments      int
	LaunchLogLines   int
	AcceptedLaunches int
}

// Dependents counts what depends on a registration.
func (s *Service) Dependents(ctx context.Context, id int64) (Registration, Dependents, error) {
	r, err := s.Store.Registration(ctx, id)
	if err != nil {
		return r, Dependents{}, err
	}
	lines, accepted, err := s.Store.LaunchCounts(ctx, id)
	if err != nil {
		return r, Dependents{}, err
	}
	return r, Dependents{Deployments: len(r.Deployments), LaunchLogLines: lines, AcceptedLaunches: accepted}, nil
}

// Delete removes a registration: its deployments and logins in progress go with it; its launch log lines stay,
// unlinked, for the record.
func (s *Service) Delete(ctx context.Context, id int64) error {
	if err := s.Store.DeleteRegistrationKeepLog(ctx, id); err != nil {
		return err
	}
	s.invalidateOrigins()
	s.log().InfoContext(ctx, "registration deleted", slog.Int64("registration_id", id))
	return nil
}

// FrameOrigins lists the origins that may frame ltipub's pages: those of the active registrations' platforms
// (issuer and authentication URL). It is cached briefly, since every page asks.
func (s *Service) FrameOrigins(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	if s.now().Before(s.originsExpire) {
		o := s.origins
		s.mu.Unlock()
		return o, nil
	}
	s.mu.Unlock()
	regs, err := s.Store.Registrations(ctx)
	if err != nil {
		return nil, fmt.Errorf("list registrations for framing: %w", err)
	}
	var origins []string
	for _, r := range regs {
		if !r.Active() {
			continue
		}
		for _, u := range []string{r.Issuer, r.AuthURL} {
			if o := origin(u); o != "" && !slices.Contains(origins, o) {
				origins = append(origins, o)
			}
		}
	}
	slices.Sort(origins)
	s.mu.Lock()
	s.origins, s.originsExpire = origins, s.now().Add(frameOriginsCacheFor)
	s.mu.Unlock()
	return origins, nil
}

func (s *Service) invalidateOrigins() {
	s.mu.Lock()
	s.originsExpire = time.Time{}
	s.mu.Unlock()
}

// origin gives scheme://host[:port] of an http(s) URL, or "" (a CSP source must not carry a path here, and
// must not let odd characters through).
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		strings.ContainsAny(u.Host, " ;,'\"") {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}
