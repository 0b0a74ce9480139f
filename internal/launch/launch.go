// Package launch runs the LTI 1.3 launch flow on the tool's side: OIDC login initiation (find the registration,
// make state and nonce, send the browser to the platform) and the launch itself (claim the state, check the
// browser, validate the id_token completely), recording every attempt in the launch log.
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
	CreatedAt      time.Time
	ExpiresAt      time.Time
	UsedAt         time.Time
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
	RecordLaunch(ctx context.Context, e *LogEntry) error
	LaunchLog(ctx context.Context, f LogFilter) ([]LogEntry, error)
	DeleteExpiredLaunchState(ctx context.Context, now time.Time) error
}

// Refusal is a launch refused for a reason the tool (not the protocol package) found: an unknown platform, a
// pending registration, a target that is not ours.
type Refusal struct {
	Code        string
	Status      int
	Description string
	Fix         string
	Err         error
}

func (r *Refusal) Error() string { return r.Description }
func (r *Refusal) Unwrap() error { return r.Err }

// Service runs logins and launches.
type Service struct {
	Registrations tool.Store
	Store         Store
	Validator     *lti.Validator
	// BaseURL is ltipub's public URL; target_link_uri must start with it.
	BaseURL string
	Log     *slog.Logger
	Now     func() time.Time
	// StateTTL is how long a person has between login and launch (default 10 minutes).
	StateTTL time.Duration
}

// LoginOptions are ltipub's own additions to a login initiation.
type LoginOptions struct {
	// NewWindow marks a login started again in a new top-level window (the fallback when a framed login had
	// neither cookies nor platform storage).
	NewWindow bool
}

// LaunchURL is the redirect URI every authentication request names.
func (s *Service) LaunchURL() string { return s.BaseURL + "/lti/launch" }

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

// Login handles an OIDC login initiation.
func (s *Service) Login(ctx context.Context, li lti.LoginInitiation, opts LoginOptions, requestID string) (LoginResult, error) {
	entry := &LogEntry{Stage: StageLogin, Issuer: li.Issuer, ClientID: li.ClientID, DeploymentID: li.DeploymentID, RequestID: requestID}
	if opts.NewWindow {
		entry.Path = PathNewWindow
	}
	res, err := s.login(ctx, li, opts, entry)
	s.record(ctx, entry, err)
	return res, err
}

func (s *Service) login(ctx context.Context, li lti.LoginInitiation, opts LoginOptions, entry *LogEntry) (LoginResult, error) {
	reg, err := s.findRegistration(ctx, li)
	if err != nil {
		return LoginResult{}, err
	}
	entry.RegistrationID, entry.ClientID = reg.ID, reg.ClientID
	if !reg.Active() {
		missing := "at least one deployment"
		if !reg.HasPlatformDetails() {
			missing = "the platform details (issuer, client ID, keyset, token and authentication URLs)"
		}
		return LoginResult{}, &Refusal{Code: "registration_pending", Status: http.StatusBadRequest,
			Description: fmt.Sprintf("The registration %q for platform %s is pending: it lacks %s.", reg.Name, reg.Issuer, missing),
			Fix:         "A site administrator completes it under Site administration → Platforms (" + reg.Name + ")."}
	}
	if li.DeploymentID != "" && !reg.HasDeployment(li.DeploymentID) {
		return LoginResult{}, lti.NewError(lti.CodeDeploymentUnknown,
			fmt.Sprintf("deployment ID %q is not registered for platform %s (registration %q)", li.DeploymentID, reg.Issuer, reg.Name), nil)
	}
	if !s.ours(li.TargetLinkURI) {
		return LoginResult{}, lti.NewError(lti.CodeTargetLinkURI,
			fmt.Sprintf("target_link_uri %q is not a URL of this tool (%s)", li.TargetLinkURI, s.BaseURL), nil)
	}
	now := s.now()
	state := lti.NewState()
	if opts.NewWindow {
		state = newWindowPrefix + state
	}
	st := State{State: state, Nonce: lti.NewNonce(), RegistrationID: reg.ID, TargetLinkURI: li.TargetLinkURI,
		StorageTarget: li.StorageTarget, CreatedAt: now, ExpiresAt: now.Add(s.stateTTL())}
	if err := s.Store.SaveState(ctx, st); err != nil {
		return LoginResult{}, fmt.Errorf("save login state: %w", err)
	}
	u, err := lti.AuthRequest{ClientID: reg.ClientID, RedirectURI: s.LaunchURL(), LoginHint: li.LoginHint,
		LTIMessageHint: li.LTIMessageHint, State: st.State, Nonce: st.Nonce}.URL(reg.AuthURL)
	if err != nil {
		return LoginResult{}, &Refusal{Code: "auth_url_invalid", Status: http.StatusBadRequest,
			Description: fmt.Sprintf("The authentication request URL of registration %q is not usable: %v", reg.Name, err),
			Fix:         "Correct the Authentication request URL under the registration's platform details.", Err: err}
	}
	origin, _ := Origin(reg.AuthURL)
	return LoginResult{RedirectURL: u, State: st.State, Nonce: st.Nonce, Registration: reg, PlatformOrigin: origin}, nil
}

func (s *Service) findRegistration(ctx context.Context, li lti.LoginInitiation) (tool.Registration, error) {
	regs, err := s.Registrations.RegistrationsByIssuer(ctx, li.Issuer)
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
		return tool.Registration{}, &Refusal{Code: "client_id_unknown", Status: http.StatusBadRequest, Err: tool.ErrUnknownPlatform,
			Description: fmt.Sprintf("Platform %s is registered, but not with client ID %q.", li.Issuer, li.ClientID),
			Fix:         "Check the Client ID in the registration's platform details against the one the platform shows for this tool."}
	case len(match) == 0:
		return tool.Registration{}, &Refusal{Code: "platform_unknown", Status: http.StatusBadRequest, Err: tool.ErrUnknownPlatform,
			Description: fmt.Sprintf("No platform with issuer %q is registered on this tool.", li.Issuer),
			Fix:         "A site administrator registers the platform under Site administration → Platforms, and enters this issuer as its Platform ID."}
	default:
		return tool.Registration{}, &Refusal{Code: "platform_ambiguous", Status: http.StatusBadRequest, Err: tool.ErrAmbiguousPlatform,
			Description: fmt.Sprintf("Several registrations have issuer %q and the platform did not send a client_id to choose one.", li.Issuer),
			Fix:         "Configure the platform to send client_id (LTI 1.3 platforms should), or keep one registration per issuer."}
	}
}

// Launch is a validated launch.
type Launch struct {
	Message      *lti.Message
	Registration tool.Registration
	State        State
	LogID        int64
	// Path is how the browser was recognised (PathCookie, PathPlatformStorage, PathNewWindow).
	Path string
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
	return &Refusal{Code: code, Status: http.StatusUnauthorized, Description: desc, Fix: fix}
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
	st, err := s.Store.LoadState(ctx, state)
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

// Launch validates the authentication response posted by the platform.
func (s *Service) Launch(ctx context.Context, resp lti.AuthResponse, browser BrowserCheck, requestID string) (*Launch, error) {
	entry := &LogEntry{Stage: StageLaunch, RequestID: requestID, Path: PathCookie}
	switch {
	case browser.Storage != nil:
		entry.Path = PathPlatformStorage
	case NewWindow(resp.State):
		entry.Path = PathNewWindow
	}
	l, err := s.launch(ctx, resp, browser, entry)
	s.record(ctx, entry, err)
	if l != nil {
		l.LogID, l.Path = entry.ID, entry.Path
	}
	return l, err
}

func (s *Service) launch(ctx context.Context, resp lti.AuthResponse, browser BrowserCheck, entry *LogEntry) (*Launch, error) {
	if resp.Error != "" {
		return nil, lti.NewError(lti.CodePlatformError, fmt.Sprintf("the platform refused the login: %s (%s)", resp.Error, resp.ErrorDescription), nil)
	}
	if resp.State == "" {
		return nil, lti.NewError(lti.CodeStateMissing, "", nil)
	}
	now := s.now()
	st, err := s.Store.ClaimState(ctx, resp.State, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, lti.NewError(lti.CodeStateUnknown, "", nil)
	case errors.Is(err, store.ErrConflict):
		entry.RegistrationID = st.RegistrationID
		return nil, lti.NewError(lti.CodeStateUsed, "", nil)
	case err != nil:
		return nil, fmt.Errorf("claim login state: %w", err)
	}
	entry.RegistrationID = st.RegistrationID
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
	reg, err := s.Registrations.Registration(ctx, st.RegistrationID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Refusal{Code: "registration_deleted", Status: http.StatusBadRequest,
			Description: "The platform registration this login started with was deleted meanwhile.",
			Fix:         "Launch again from the platform; if it fails, the platform needs registering again."}
	}
	if err != nil {
		return nil, fmt.Errorf("load registration %d: %w", st.RegistrationID, err)
	}
	entry.Issuer, entry.ClientID = reg.Issuer, reg.ClientID
	msg, err := s.Validator.Validate(ctx, resp.IDToken, lti.Expect{
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

// ours reports whether u is a URL of this tool.
func (s *Service) ours(u string) bool {
	return u == s.BaseURL || strings.HasPrefix(u, s.BaseURL+"/")
}

// Record appends an entry to the launch log (and the server log); err, if any, gives its code and reason. The
// web layer uses it for what happens around a launch in the browser: a login that fell back to a new window,
// a launch continued in a new window.
func (s *Service) Record(ctx context.Context, e *LogEntry, err error) { s.record(ctx, e, err) }

func (s *Service) record(ctx context.Context, e *LogEntry, err error) {
	e.At = s.now()
	e.Outcome = Accepted
	if err != nil {
		e.Outcome = Refused
		e.Code, e.Reason = Describe(err)
	}
	if rerr := s.Store.RecordLaunch(ctx, e); rerr != nil && s.Log != nil {
		s.Log.ErrorContext(ctx, "record launch log", slog.Any("error", rerr))
	}
	if s.Log != nil {
		attrs := []any{slog.String("stage", e.Stage), slog.String("outcome", e.Outcome), slog.String("issuer", e.Issuer),
			slog.String("client_id", e.ClientID), slog.String("deployment_id", e.DeploymentID), slog.String("message_type", e.MessageType)}
		if err != nil {
			attrs = append(attrs, slog.String("code", e.Code), slog.String("reason", e.Reason))
			var le *lti.Error
			if errors.As(err, &le) && le.Err != nil {
				attrs = append(attrs, slog.String("cause", le.Err.Error()))
			}
			s.Log.WarnContext(ctx, "LTI "+e.Stage+" refused", attrs...)
		} else {
			s.Log.InfoContext(ctx, "LTI "+e.Stage+" accepted", attrs...)
		}
	}
}

// Describe gives the code and the plain-words reason of a refusal, for the launch log and the error page.
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
	return s.Store.DeleteExpiredLaunchState(ctx, s.now())
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) stateTTL() time.Duration {
	if s.StateTTL > 0 {
		return s.StateTTL
	}
	return 10 * time.Minute
}
