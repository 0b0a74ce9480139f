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
	Path           string // cookie, platform storage, new window
	RequestID      string
}

// Outcomes and stages of the launch log.
const (
	Accepted    = "accepted"
	Refused     = "refused"
	StageLogin  = "login"
	StageLaunch = "launch"
	PathCookie  = "cookie"
)

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

// LaunchURL is the redirect URI every authentication request names.
func (s *Service) LaunchURL() string { return s.BaseURL + "/lti/launch" }

// LoginResult tells the handler where to send the browser and what to bind to it.
type LoginResult struct {
	RedirectURL  string
	State        string
	Registration tool.Registration
}

// Login handles an OIDC login initiation.
func (s *Service) Login(ctx context.Context, li lti.LoginInitiation, requestID string) (LoginResult, error) {
	entry := &LogEntry{Stage: StageLogin, Issuer: li.Issuer, ClientID: li.ClientID, DeploymentID: li.DeploymentID, RequestID: requestID}
	res, err := s.login(ctx, li, entry)
	s.record(ctx, entry, err)
	return res, err
}

func (s *Service) login(ctx context.Context, li lti.LoginInitiation, entry *LogEntry) (LoginResult, error) {
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
	st := State{State: lti.NewState(), Nonce: lti.NewNonce(), RegistrationID: reg.ID, TargetLinkURI: li.TargetLinkURI,
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
	return LoginResult{RedirectURL: u, State: st.State, Registration: reg}, nil
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
}

// BrowserCheck says how the browser proved it started the login: the value of the state cookie it sent ("" if
// none). Later, platform storage gives another proof.
type BrowserCheck struct {
	CookieState string
}

// Launch validates the authentication response posted by the platform.
func (s *Service) Launch(ctx context.Context, resp lti.AuthResponse, browser BrowserCheck, requestID string) (*Launch, error) {
	entry := &LogEntry{Stage: StageLaunch, RequestID: requestID, Path: PathCookie}
	l, err := s.launch(ctx, resp, browser, entry)
	s.record(ctx, entry, err)
	if l != nil {
		l.LogID = entry.ID
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
