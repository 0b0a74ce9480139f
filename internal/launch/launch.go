// Package launch owns a launch from end to end, for LTI 1.3 and 1.1: the OIDC login initiation (find the
// registration, make state and nonce, send the browser to the platform), the launch itself (claim the state, check
// the browser, validate the id_token completely, or verify a 1.1 signature), the landing (publish finds the
// resource, the account and the enrolment), the session the launch starts (its scope), the new-window tickets,
// and the launch log, written once per launch. Web handlers only decode requests and render its outcomes.
package launch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/keys"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
)

// State is a login in progress, kept server-side so that any instance can finish it.
type State struct {
	State          string
	Nonce          string
	RegistrationID int64
	TargetLinkURI  string
	StorageTarget  string
	// LogID is the launch log row the login wrote; the launch updates it rather than adding a second one.
	LogID     int64
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// LogEntry is one line of the launch log.
type LogEntry struct {
	ID             int64
	At             time.Time
	RegistrationID int64
	Issuer         string
	ClientID       string
	DeploymentID   string
	MessageType    string
	Subject        string
	Stage          string // login or launch
	Outcome        string // accepted or refused
	Code           string
	Reason         string
	Path           string // how the browser was recognised: cookie, platform storage, new window
	RequestID      string
	// Warning is what the launch's link cannot do although the resource asks for it (grade or member sync
	// without the platform's service), with the fix; grade sync (internal/jobs) sets it after landing.
	Warning string
	// PlatformName names the platform as people know it (see PlatformName): what the launch log shows for LTI
	// 1.1 launches, which have no registration, with their consumer key (ClientID).
	PlatformName string
	// Detail is what came in, for the launch inspector; nil once older than the retention.
	Detail *Detail
}

// Outcomes and stages of the launch log.
const (
	Accepted    = "accepted"
	Refused     = "refused"
	StageLogin  = "login"
	StageLaunch = "launch"
	// StageNewWindow is a validated launch continued in a new top-level window (the frame kept no cookie).
	StageNewWindow = "new window"
)

// Paths: how a launch proved that the browser posting the id_token is the one that started the login.
const (
	// PathCookie: the state cookie set at login came back.
	PathCookie = "cookie"
	// PathPlatformStorage: ltipub's own launch page found the state in the platform's postMessage storage.
	PathPlatformStorage = "platform storage"
	// PathNewWindow: the login was started again in a new top-level window, where the state cookie is
	// first-party (the framed login had neither cookies nor platform storage).
	PathNewWindow = "new window"
	// PathLegacy: an LTI 1.1 launch, proven by its OAuth signature.
	PathLegacy = "lti 1.1"
)

// newWindowPrefix starts the state of a login started again in a new top-level window. The state is ltipub's
// own opaque value, so the prefix is how the launch knows which path it is on without another column; nobody
// else chooses states, so nobody can claim the new-window path for a framed login.
const newWindowPrefix = "w."

// LogFilter narrows the launch log.
type LogFilter struct {
	RegistrationID int64
	Outcome        string
	Limit          int
	// BeforeID pages back: only rows older than this one (0: from the newest).
	BeforeID int64
	// Code is a refusal code (exactly); User is a platform user id (the subject) or the username of the account
	// linked to it; From and To bound the time (zero: unbounded; To excluded). Offset is for LaunchLogPage.
	Code     string
	User     string
	From, To time.Time
	Offset   int
}

// Filtered reports whether a filter is set.
func (f LogFilter) Filtered() bool {
	return f.RegistrationID != 0 || f.Outcome != "" || f.Code != "" || f.User != "" || !f.From.IsZero() || !f.To.IsZero()
}

// Store is what the launch flow needs from storage.
type Store interface {
	lti.NonceStore
	SaveState(ctx context.Context, s State) error
	// ClaimState marks a state used and returns it; a state already used is returned with UsedAt set and
	// store.ErrConflict; an unknown one gives store.ErrNotFound.
	ClaimState(ctx context.Context, state string, now time.Time) (State, error)
	// LoadState returns a state without claiming it (store.ErrNotFound if unknown).
	LoadState(ctx context.Context, state string) (State, error)
	// RecordLaunch appends e to the launch log and sets its ID; with e.ID set, it updates that row instead.
	RecordLaunch(ctx context.Context, e *LogEntry) error
	LaunchLog(ctx context.Context, f LogFilter) ([]LogEntry, error)
	// LaunchLogPage lists one page (f.Offset, f.Limit) of the entries matching f, newest first, and counts them all.
	LaunchLogPage(ctx context.Context, f LogFilter) ([]LogEntry, int, error)
	// LaunchCodes lists the refusal codes the log holds.
	LaunchCodes(ctx context.Context) ([]string, error)
	// LaunchLogEntry returns row id with its detail, first dropping every row's detail recorded before
	// keepAfter; store.ErrNotFound when there is no such row.
	LaunchLogEntry(ctx context.Context, id int64, keepAfter time.Time) (LogEntry, error)
	DeleteExpiredLaunchState(ctx context.Context, now time.Time) error
}

// Refusal is a launch refused for a reason the tool (not the protocol package) found: an unknown platform, a
// pending registration, a target that is not ours. It is the domain's one refusal type.
type Refusal = refusal.Refusal

// refuse is a refusal of the launch itself.
func refuse(code string, kind refusal.Kind, audience refusal.Audience, description, fix string, err error) *Refusal {
	return &Refusal{Code: code, Kind: kind, Audience: audience, Title: "This launch was refused", Description: description, Fix: fix, Err: err}
}

// Registrations is what a launch reads of platform registrations.
type Registrations interface {
	RegistrationsByIssuer(ctx context.Context, issuer string) ([]tool.Registration, error)
	Registration(ctx context.Context, id int64) (tool.Registration, error)
	Registrations(ctx context.Context) ([]tool.Registration, error)
}

// Keys gives the tool's signing keys (active first), from which the new-window ticket keys derive.
type Keys interface {
	Keys(ctx context.Context) ([]keys.Key, error)
}

// Config is what a launch service needs; New refuses a missing dependency.
type Config struct {
	Registrations Registrations
	// CacheTTL is how long registrations stay cached (zero: 3 s).
	CacheTTL  time.Duration
	Store     Store
	Validator *lti.Validator
	// Publish lands launches: resource, account, enrolment.
	Publish *publish.Service
	Keys    Keys
	// BaseURL is ltipub's public URL; target_link_uri must start with it.
	BaseURL string
	Log     *slog.Logger
	Now     func() time.Time
	// StateTTL is how long a person has between login and launch (default 10 minutes).
	StateTTL time.Duration
	// Warnings says, for the launch log, which syncs a landed link cannot do although its resource has them on
	// (no grade or roster service in the launch); nil records none.
	Warnings func(r publish.Resource, l publish.ResourceLink, legacyOutcome bool) string
	// DetailRetention is how long the launch log keeps what came in with a launch, for the inspector
	// (DefaultDetailRetention when zero).
	DetailRetention time.Duration
	// HTTP fetches LTI 2.0 tool consumer profiles and posts tool proxies (lti2.go): the guarded client for
	// platform-supplied URLs. Nil refuses LTI 2.0 registrations.
	HTTP *http.Client
}

// Notices is what a launch tells the notice service: a validated launch offered the PNS at its deployment.
type Notices interface {
	Seen(ctx context.Context, reg tool.Registration, deploymentID string, pns *lti.PNSService)
}

// Service runs logins and launches.
type Service struct {
	regs      Registrations
	store     Store
	validator *lti.Validator
	publish   *publish.Service
	keys      Keys
	baseURL   string
	log       *slog.Logger
	clock     func() time.Time
	ttl       time.Duration
	warnings  func(publish.Resource, publish.ResourceLink, bool) string
	retention time.Duration
	http      *http.Client
	notices   Notices
}

// New builds the launch service.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Registrations == nil:
		return nil, errors.New("launch: Config.Registrations is required")
	case cfg.Store == nil:
		return nil, errors.New("launch: Config.Store is required")
	case cfg.Validator == nil || cfg.Validator.Nonces == nil:
		return nil, errors.New("launch: Config.Validator (with its nonce store) is required")
	case cfg.Publish == nil:
		return nil, errors.New("launch: Config.Publish is required")
	case cfg.Keys == nil:
		return nil, errors.New("launch: Config.Keys is required")
	case cfg.BaseURL == "":
		return nil, errors.New("launch: Config.BaseURL is required")
	case cfg.Log == nil:
		return nil, errors.New("launch: Config.Log is required")
	}
	clock := cfg.Now
	if clock == nil {
		clock = time.Now
	}
	return &Service{regs: newRegCache(cfg.Registrations, clock, cfg.CacheTTL), store: cfg.Store, validator: cfg.Validator, publish: cfg.Publish, keys: cfg.Keys,
		baseURL: strings.TrimRight(cfg.BaseURL, "/"), log: cfg.Log, clock: clock, ttl: cfg.StateTTL, warnings: cfg.Warnings,
		retention: cfg.DetailRetention, http: cfg.HTTP}, nil
}

// SetNotices connects the notice service (internal/notice), which is told of launches that carry the Platform
// Notification Service claim and registers ltipub's notice handlers there; without it the claim is ignored. It is
// set after New because the notice service verifies notices with this service's validator.
func (s *Service) SetNotices(n Notices) { s.notices = n }

// Validator is the id_token validator launches use (its key sets verify every platform-signed JWT).
func (s *Service) Validator() *lti.Validator { return s.validator }

// LaunchLogPage lists one page of the launch log, newest first, with the number of entries that match.
func (s *Service) LaunchLogPage(ctx context.Context, f LogFilter) ([]LogEntry, int, error) {
	return s.store.LaunchLogPage(ctx, f)
}

// LaunchCodes lists the refusal codes in the launch log, for its filter.
func (s *Service) LaunchCodes(ctx context.Context) ([]string, error) { return s.store.LaunchCodes(ctx) }

// LaunchLog lists the launch log.
func (s *Service) LaunchLog(ctx context.Context, f LogFilter) ([]LogEntry, error) {
	return s.store.LaunchLog(ctx, f)
}

// RegistrationList lists the platform registrations (the launch log's filter).
func (s *Service) RegistrationList(ctx context.Context) ([]tool.Registration, error) {
	return s.regs.Registrations(ctx)
}

// LoginOptions are ltipub's own additions to a login initiation.
type LoginOptions struct {
	// NewWindow marks a login started again in a new top-level window (the fallback when a framed login had
	// neither cookies nor platform storage).
	NewWindow bool
}

// LaunchURL is the redirect URI every authentication request names.
func (s *Service) LaunchURL() string { return s.baseURL + "/lti/launch" }

// LoginResult tells the handler where to send the browser and what to bind to it.
type LoginResult struct {
	RedirectURL string
	State       string
	// Nonce is kept in the platform's storage beside the state when the login uses it.
	Nonce        string
	Registration tool.Registration
	// PlatformOrigin is the origin of the platform's authentication URL: the only origin ltipub posts storage
	// messages to and accepts answers from.
	PlatformOrigin string
}

// Login handles an OIDC login initiation. A refused login writes its launch log row here; an accepted one leaves
// the row to its launch, which writes it once with the outcome of the whole launch (a login nobody finished is
// in the server log only). A login started again in a new window is the exception: it is logged at once, since
// it tells admins that a frame had neither cookies nor platform storage, and its launch updates that row.
func (s *Service) Login(ctx context.Context, li lti.LoginInitiation, opts LoginOptions, requestID string) (LoginResult, error) {
	entry := &LogEntry{Stage: StageLogin, Issuer: li.Issuer, ClientID: li.ClientID, DeploymentID: li.DeploymentID, RequestID: requestID}
	if opts.NewWindow {
		entry.Path = PathNewWindow
	}
	res, st, err := s.login(ctx, li, opts, entry)
	if err != nil || opts.NewWindow {
		s.record(ctx, entry, err)
	}
	if err != nil {
		return res, err
	}
	if !opts.NewWindow {
		s.log.InfoContext(ctx, "LTI login accepted", "issuer", entry.Issuer, "client_id", entry.ClientID, "deployment_id", entry.DeploymentID)
	}
	st.LogID = entry.ID
	if err := s.store.SaveState(ctx, st); err != nil {
		return LoginResult{}, fmt.Errorf("save login state: %w", err)
	}
	return res, nil
}

func (s *Service) login(ctx context.Context, li lti.LoginInitiation, opts LoginOptions, entry *LogEntry) (LoginResult, State, error) {
	reg, err := s.findRegistration(ctx, li)
	if err != nil {
		return LoginResult{}, State{}, err
	}
	entry.RegistrationID, entry.ClientID = reg.ID, reg.ClientID
	if !reg.Active() {
		missing := "at least one deployment"
		if !reg.HasPlatformDetails() {
			missing = "the platform details (issuer, client ID, keyset, token and authentication URLs)"
		}
		return LoginResult{}, State{}, refuse("registration_pending", refusal.Invalid, refusal.Admin,
			fmt.Sprintf("The registration %q for platform %s is pending: it lacks %s.", reg.Name, reg.Issuer, missing),
			"A site administrator completes it under Site administration → Platforms ("+reg.Name+").", nil).With("Name", reg.Name, "Issuer", reg.Issuer)
	}
	if li.DeploymentID != "" && !reg.HasDeployment(li.DeploymentID) {
		return LoginResult{}, State{}, lti.NewError(lti.CodeDeploymentUnknown,
			fmt.Sprintf("deployment ID %q is not registered for platform %s (registration %q)", li.DeploymentID, reg.Issuer, reg.Name), nil)
	}
	if !s.ours(li.TargetLinkURI) {
		return LoginResult{}, State{}, lti.NewError(lti.CodeTargetLinkURI,
			fmt.Sprintf("target_link_uri %q is not a URL of this tool (%s)", li.TargetLinkURI, s.baseURL), nil)
	}
	now := s.now()
	state := lti.NewState()
	if opts.NewWindow {
		state = newWindowPrefix + state
	}
	st := State{State: state, Nonce: lti.NewNonce(), RegistrationID: reg.ID, TargetLinkURI: li.TargetLinkURI,
		StorageTarget: li.StorageTarget, CreatedAt: now, ExpiresAt: now.Add(s.stateTTL())}
	u, err := lti.AuthRequest{ClientID: reg.ClientID, RedirectURI: s.LaunchURL(), LoginHint: li.LoginHint,
		LTIMessageHint: li.LTIMessageHint, State: st.State, Nonce: st.Nonce}.URL(reg.AuthURL)
	if err != nil {
		return LoginResult{}, State{}, refuse("auth_url_invalid", refusal.Invalid, refusal.Admin,
			fmt.Sprintf("The authentication request URL of registration %q is not usable: %v", reg.Name, err),
			"Correct the Authentication request URL under the registration's platform details.", err).With("Name", reg.Name)
	}
	origin, _ := Origin(reg.AuthURL)
	return LoginResult{RedirectURL: u, State: st.State, Nonce: st.Nonce, Registration: reg, PlatformOrigin: origin}, st, nil
}

func (s *Service) findRegistration(ctx context.Context, li lti.LoginInitiation) (tool.Registration, error) {
	regs, err := s.regs.RegistrationsByIssuer(ctx, li.Issuer)
	if err != nil {
		return tool.Registration{}, fmt.Errorf("look up registrations of %s: %w", li.Issuer, err)
	}
	var match []tool.Registration
	for _, r := range regs {
		if li.ClientID == "" || r.ClientID == li.ClientID {
			match = append(match, r)
		}
	}
	// Without client_id, a deployment ID can still tell registrations of one issuer apart.
	if len(match) > 1 && li.DeploymentID != "" {
		var byDeployment []tool.Registration
		for _, r := range match {
			if r.HasDeployment(li.DeploymentID) {
				byDeployment = append(byDeployment, r)
			}
		}
		if len(byDeployment) > 0 {
			match = byDeployment
		}
	}
	switch {
	case len(match) == 1:
		return match[0], nil
	case len(match) == 0 && li.ClientID != "" && len(regs) > 0:
		return tool.Registration{}, refuse("client_id_unknown", refusal.Invalid, refusal.Admin,
			fmt.Sprintf("Platform %s is registered, but not with client ID %q.", li.Issuer, li.ClientID),
			"Check the Client ID in the registration's platform details against the one the platform shows for this tool.", tool.ErrUnknownPlatform).
			With("Issuer", li.Issuer, "ClientID", li.ClientID)
	case len(match) == 0:
		return tool.Registration{}, refuse("platform_unknown", refusal.Invalid, refusal.Admin,
			fmt.Sprintf("No platform with issuer %q is registered on this tool.", li.Issuer),
			"A site administrator registers the platform under Site administration → Platforms, and enters this issuer as its Platform ID.", tool.ErrUnknownPlatform).
			With("Issuer", li.Issuer)
	default:
		return tool.Registration{}, refuse("platform_ambiguous", refusal.Invalid, refusal.Admin,
			fmt.Sprintf("Several registrations have issuer %q and the platform did not send a client_id to choose one.", li.Issuer),
			"Configure the platform to send client_id (LTI 1.3 platforms should), or keep one registration per issuer.", tool.ErrAmbiguousPlatform).
			With("Issuer", li.Issuer)
	}
}

// Launch is a validated launch.
type Launch struct {
	Message      *lti.Message
	Registration tool.Registration
	State        State
	LogID        int64
	// Path is how the browser was recognised (PathCookie, PathPlatformStorage, PathNewWindow, PathLegacy).
	Path string
	// Legacy is set for an LTI 1.1 launch; Registration is then publish.LegacyRegistration (no ID).
	Legacy *publish.LegacyLaunch
}

// BrowserCheck is the proof, sent with the id_token, that this browser started the login. Exactly one path
// applies: the state cookie (CookieState, "" if none came back), or platform storage (Storage set: the post came
// from ltipub's own launch page, which looked the state up in the platform's postMessage storage).
type BrowserCheck struct {
	CookieState string
	Storage     *StorageProof
}

// StorageProof is what ltipub's launch page found in the platform's storage. SameOrigin is checked by the HTTP
// handler: the browser says the post came from one of ltipub's own pages (Sec-Fetch-Site: same-origin, or an
// Origin header naming ltipub). A cross-site page cannot produce such a post, so an attacker cannot skip the
// lookup by posting the marker himself; the lookup itself runs in the browser that posts.
type StorageProof struct {
	SameOrigin bool
	// Outcome is the page's finding: ok (Value came back), missing (no value stored under the key), timeout,
	// origin (answers came only from another origin), unsupported (no put_data/get_data), error.
	Outcome string
	// Value is what the platform's storage returned for lti_state_<state>.
	Value string
	// Detail says more for the log and the page (the unexpected origin, the platform's error message).
	Detail string
}

// Outcomes of a platform storage lookup, as the launch page reports them.
const (
	StorageOK          = "ok"
	StorageMissing     = "missing"
	StorageTimeout     = "timeout"
	StorageWrongOrigin = "origin"
	StorageUnsupported = "unsupported"
	StorageError       = "error"
)

// StorageKey is the key the state is kept under in the platform's storage (and StorageNonceKey the nonce's), as
// the LTI client-side postMessage storage specification names them.
func StorageKey(state string) string      { return "lti_state_" + state }
func StorageNonceKey(nonce string) string { return "lti_nonce_" + nonce }

// Origin returns scheme://host[:port] of an absolute URL.
func Origin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute URL", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Refusal codes of the platform storage path; each has its own message.
const (
	CodeStorageProofMissing = "storage_proof_missing"
	CodeStorageNotStarted   = "storage_not_started"
	CodeStorageMismatch     = "storage_state_mismatch"
	CodeStorageMissing      = "storage_state_missing"
	CodeStorageTimeout      = "storage_timeout"
	CodeStorageWrongOrigin  = "storage_wrong_origin"
	CodeStorageUnsupported  = "storage_unsupported"
	CodeStorageError        = "storage_error"
)

const fixRelaunch = "Go back to your platform and open the activity again. If it keeps failing, open it in a new window (or allow cookies for this site)."

func storageRefusal(code, desc, fix string) *Refusal {
	if fix == "" {
		fix = fixRelaunch
	}
	return refuse(code, refusal.Unauthorized, refusal.Learner, desc, fix, nil)
}

// checkStorage checks a platform storage proof against the claimed state.
func checkStorage(st State, p StorageProof) error {
	switch {
	case !p.SameOrigin:
		return storageRefusal(CodeStorageProofMissing,
			"The platform storage confirmation did not come from ltipub's own launch page, so it proves nothing about this browser.",
			"Open the activity again from your platform.")
	case st.StorageTarget == "":
		return storageRefusal(CodeStorageNotStarted,
			"This launch did not start with the platform's storage, so it cannot be confirmed through it.", "")
	}
	switch p.Outcome {
	case StorageOK:
		if p.Value != st.State {
			return storageRefusal(CodeStorageMismatch,
				"The platform's storage holds a different value for this launch's state: this browser did not start this launch, or the platform's storage mixed launches up.", "")
		}
		return nil
	case StorageMissing:
		return storageRefusal(CodeStorageMissing,
			"The platform's storage has no record of this launch: it was not started in this browser.", "")
	case StorageTimeout:
		return storageRefusal(CodeStorageTimeout,
			"The platform's storage frame did not answer in time, so ltipub could not confirm that this browser started the launch.", "")
	case StorageWrongOrigin:
		return storageRefusal(CodeStorageWrongOrigin,
			fmt.Sprintf("An answer about this launch came from %s instead of the platform; ltipub ignored it and could not confirm the launch.", orUnknown(p.Detail)), "")
	case StorageUnsupported:
		return storageRefusal(CodeStorageUnsupported,
			"The platform's storage frame does not offer lti.get_data, so ltipub could not confirm the launch.", "")
	default:
		return storageRefusal(CodeStorageError,
			fmt.Sprintf("The platform's storage answered with an error (%s), so ltipub could not confirm the launch.", orUnknown(p.Detail)), "")
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// PendingStorage reports whether a launch without a state cookie should go through ltipub's platform storage
// page first: its state exists, is unused and unexpired, and its login kept it in the platform's storage. It
// changes nothing (the state is claimed by the launch that follows), so posting the same response twice here
// is harmless.
func (s *Service) PendingStorage(ctx context.Context, state string) (State, bool, error) {
	if state == "" {
		return State{}, false, nil
	}
	st, err := s.store.LoadState(ctx, state)
	if errors.Is(err, store.ErrNotFound) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, fmt.Errorf("load login state: %w", err)
	}
	ok := st.StorageTarget != "" && st.UsedAt.IsZero() && !s.now().After(st.ExpiresAt)
	return st, ok, nil
}

// NewWindow reports whether a state belongs to a login started again in a new top-level window.
func NewWindow(state string) bool { return strings.HasPrefix(state, newWindowPrefix) }

// Request is a posted authentication response with what the browser brought: the proof that it started the
// login, and the session it already has.
type Request struct {
	Response  lti.AuthResponse
	Browser   BrowserCheck
	Prev      Session
	RequestID string
}

// Launch validates the authentication response posted by the platform and lands it: a resource link in its
// course or activity (or an account choice first), a content selection on its selection page. The launch log row
// of its login is updated once, with the outcome of the whole launch.
func (s *Service) Launch(ctx context.Context, req Request) (*Outcome, error) {
	entry := &LogEntry{Stage: StageLaunch, RequestID: req.RequestID, Path: PathCookie}
	switch {
	case req.Browser.Storage != nil:
		entry.Path = PathPlatformStorage
	case NewWindow(req.Response.State):
		entry.Path = PathNewWindow
	}
	l, err := s.launch(ctx, req.Response, req.Browser, entry)
	var out *Outcome
	if err == nil && l.Message.PNS != nil && s.notices != nil {
		s.notices.Seen(ctx, l.Registration, l.Message.DeploymentID, l.Message.PNS)
	}
	if err == nil {
		l.LogID, l.Path = entry.ID, entry.Path
		out, err = s.land(ctx, l, publish.Choice{}, req.Prev, entry)
	}
	s.finish(ctx, entry, out, err)
	if out != nil && out.Launch != nil {
		// The row exists now (an accepted login left it to the launch): a resumed launch updates this one.
		out.Launch.LogID = entry.ID
		if out.Pending != nil {
			out.Pending.LogID = entry.ID
		}
	}
	return out, err
}

func (s *Service) launch(ctx context.Context, resp lti.AuthResponse, browser BrowserCheck, entry *LogEntry) (*Launch, error) {
	if resp.Error != "" {
		return nil, lti.NewError(lti.CodePlatformError, fmt.Sprintf("the platform refused the login: %s (%s)", resp.Error, resp.ErrorDescription), nil)
	}
	if resp.State == "" {
		return nil, lti.NewError(lti.CodeStateMissing, "", nil)
	}
	now := s.now()
	st, err := s.store.ClaimState(ctx, resp.State, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, lti.NewError(lti.CodeStateUnknown, "", nil)
	case errors.Is(err, store.ErrConflict):
		entry.RegistrationID = st.RegistrationID
		return nil, lti.NewError(lti.CodeStateUsed, "", nil)
	case err != nil:
		return nil, fmt.Errorf("claim login state: %w", err)
	}
	// The launch finishes its login's log row.
	entry.ID, entry.RegistrationID = st.LogID, st.RegistrationID
	if now.After(st.ExpiresAt) {
		return nil, lti.NewError(lti.CodeStateExpired, "", nil)
	}
	switch {
	case browser.Storage != nil:
		if err := checkStorage(st, *browser.Storage); err != nil {
			return nil, err
		}
	case browser.CookieState == "":
		return nil, lti.NewError(lti.CodeStateCookieMissing, "", nil)
	case browser.CookieState != st.State:
		return nil, lti.NewError(lti.CodeStateCookieMismatch, "", nil)
	}
	if resp.IDToken == "" {
		return nil, lti.NewError(lti.CodeIDTokenMissing, "", nil)
	}
	reg, err := s.regs.Registration(ctx, st.RegistrationID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, refuse("registration_deleted", refusal.Invalid, refusal.Admin,
			"The platform registration this login started with was deleted meanwhile.",
			"Launch again from the platform; if it fails, the platform needs registering again.", nil)
	}
	if err != nil {
		return nil, fmt.Errorf("load registration %d: %w", st.RegistrationID, err)
	}
	entry.Issuer, entry.ClientID = reg.Issuer, reg.ClientID
	entry.Detail = idTokenDetail(resp.IDToken, reg)
	// The nonce is the one of this login's state, which was just claimed once and for all: burning it again in
	// the nonce table would cost a statement and prove nothing more.
	v := *s.validator
	v.Nonces = claimedWithState{}
	msg, err := v.Validate(ctx, resp.IDToken, lti.Expect{
		Issuer: reg.Issuer, ClientID: reg.ClientID, JWKSURL: reg.JWKSURL, Nonce: st.Nonce,
		DeploymentKnown:      reg.HasDeployment,
		TargetLinkURIAllowed: s.ours,
	})
	if msg != nil {
		entry.DeploymentID, entry.MessageType, entry.Subject = msg.DeploymentID, string(msg.MessageType), msg.Subject
	}
	if err != nil {
		return nil, err
	}
	return &Launch{Message: msg, Registration: reg, State: st}, nil
}

// claimedWithState is the nonce store of LTI 1.3 launches: the validator has checked that the id_token's nonce
// is the one issued with the state, and the state is single use (ClaimState), so the nonce is too.
type claimedWithState struct{}

func (claimedWithState) UseNonce(context.Context, string, string, time.Time) error { return nil }

// ours reports whether u is a URL of this tool.
func (s *Service) ours(u string) bool {
	return u == s.baseURL || strings.HasPrefix(u, s.baseURL+"/")
}

// finish records the launch log row of a launch and its outcome, unless the provisioning transaction wrote it
// already (then only the server log line is left).
func (s *Service) finish(ctx context.Context, entry *LogEntry, out *Outcome, err error) {
	if err == nil && out != nil && out.logged != nil {
		*entry = *out.logged
		out.logged = nil
		if c, ok := s.store.(launchCounter); ok {
			c.LaunchRecorded(entry)
		}
		s.logLine(ctx, entry, nil)
		return
	}
	entry.Warning = out.warning()
	s.recordDid(entry, out, err)
	s.record(ctx, entry, err)
}

// record writes the launch log row e (appended, or updated when e.ID is set) and the server log line; err, if
// any, gives its code and reason.
func (s *Service) record(ctx context.Context, e *LogEntry, err error) {
	e.At = s.now()
	e.Outcome = Accepted
	if err != nil {
		e.Outcome = Refused
		e.Code, e.Reason = Describe(err)
	}
	// The record outlives a cancelled request: a refused launch must still be in the log.
	if rerr := s.store.RecordLaunch(context.WithoutCancel(ctx), e); rerr != nil {
		s.log.ErrorContext(ctx, "record launch log", slog.Any("error", rerr))
	}
	s.logLine(ctx, e, err)
}

// logLine writes the server log line of launch log row e.
func (s *Service) logLine(ctx context.Context, e *LogEntry, err error) {
	{
		attrs := []any{slog.String("stage", e.Stage), slog.String("outcome", e.Outcome), slog.String("issuer", e.Issuer),
			slog.String("client_id", e.ClientID), slog.String("deployment_id", e.DeploymentID), slog.String("message_type", e.MessageType)}
		if err != nil {
			attrs = append(attrs, slog.String("code", e.Code), slog.String("reason", e.Reason))
			var le *lti.Error
			if errors.As(err, &le) && le.Err != nil {
				attrs = append(attrs, slog.String("cause", le.Err.Error()))
			}
			s.log.WarnContext(ctx, "LTI "+e.Stage+" refused", attrs...)
		} else {
			s.log.InfoContext(ctx, "LTI "+e.Stage+" accepted", attrs...)
		}
	}
}

// Describe gives the code and the plain-words reason of a refusal, for the launch log.
func Describe(err error) (code, reason string) {
	var le *lti.Error
	var r *Refusal
	switch {
	case errors.As(err, &le):
		return string(le.Code), le.Description
	case errors.As(err, &r):
		return r.Code, r.Description
	default:
		return "internal_error", "internal error: " + err.Error()
	}
}

// CleanUp deletes expired login states and nonces.
func (s *Service) CleanUp(ctx context.Context) error {
	return s.store.DeleteExpiredLaunchState(ctx, s.now())
}

func (s *Service) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

func (s *Service) stateTTL() time.Duration {
	if s.ttl > 0 {
		return s.ttl
	}
	return 10 * time.Minute
}
