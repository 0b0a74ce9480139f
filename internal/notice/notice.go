// Package notice owns the Platform Notification Service on the tool's side: registering ltipub's notice handler
// with each platform deployment whose launches offer the service (in the background, through the job queue),
// receiving notices (each verified like an id_token), and acting on them: a context copy makes the copied course's
// links reach the same published resources; a hello world notice is recorded for the admin; any other type is
// acknowledged and logged. The protocol (claims, verification, the handler PUT) is lti's; storage is the Store's.
package notice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
)

// Handler is ltipub's handler registration for one notice type at one deployment.
type Handler struct {
	RegistrationID int64
	DeploymentID   string
	NoticeType     string
	ServiceURL     string // the platform's notice handler service (platform_notification_service_url)
	HandlerURL     string // where ltipub asked for the notices
	RegisteredAt   time.Time
	Error          string // the platform's last refusal, while not registered
	UpdatedAt      time.Time
}

// Registered reports whether the platform accepted this handler as it is.
func (h Handler) Registered() bool { return !h.RegisteredAt.IsZero() && h.Error == "" }

// Outcomes of a received notice.
const (
	// Handled: a type ltipub acts on, acted on.
	Handled = "handled"
	// Acknowledged: a type ltipub does not act on; answered 2xx and logged.
	Acknowledged = "acknowledged"
	// Duplicate: the same notice (its id) came before; answered 2xx, not acted on again.
	Duplicate = "duplicate"
	// Refused: the notice did not verify (never recorded; the server log has it).
	Refused = "refused"
)

// Record is a verified notice, as the admin sees it.
type Record struct {
	ID             int64
	RegistrationID int64
	DeploymentID   string
	NoticeID       string
	Type           string
	ContextID      string
	Outcome        string
	Summary        string
	Claims         string // the payload JSON as it came
	ReceivedAt     time.Time
}

// ContextCopy is one origin of a copied context.
type ContextCopy struct {
	RegistrationID  int64
	DeploymentID    string
	ContextID       string
	OriginContextID string
	NoticeID        string
	CopiedAt        time.Time
}

// Store is what notices need from storage.
type Store interface {
	NoticeHandlers(ctx context.Context, registrationID int64, deploymentID string) ([]Handler, error)
	// SaveNoticeHandler inserts or replaces the handler of (registration, deployment, type).
	SaveNoticeHandler(ctx context.Context, h Handler) error
	// RecordNotice records a verified notice and sets its ID; a notice whose (registration, notice id) is recorded
	// already gives store.ErrAlreadyExists.
	RecordNotice(ctx context.Context, r *Record) error
	Notices(ctx context.Context, registrationID int64, limit int) ([]Record, error)
	// SaveContextCopy records a copy; recording the same (registration, deployment, context, origin) again is a no-op.
	SaveContextCopy(ctx context.Context, c ContextCopy) error
}

// Registrations is what notices read of platform registrations.
type Registrations interface {
	Registration(ctx context.Context, id int64) (tool.Registration, error)
}

// Queue runs a handler registration in the background (the job queue); identical pending requests are one.
type Queue interface {
	QueueNoticeHandlers(ctx context.Context, req Request) error
}

// Request asks for ltipub's handlers to be registered at one deployment's notice handler service.
type Request struct {
	RegistrationID int64    `json:"registration_id"`
	DeploymentID   string   `json:"deployment_id"`
	ServiceURL     string   `json:"service_url"`
	Types          []string `json:"types"`
}

// Config is what New needs.
type Config struct {
	Store         Store
	Registrations Registrations
	// Validator verifies notices (with a nonce store: every notice's nonce is used once).
	Validator *lti.Validator
	// BaseURL is ltipub's public URL: handler URLs are BaseURL/lti/notices/<registration id>.
	BaseURL string
	Log     *slog.Logger
	Now     func() time.Time
}

// Service registers handlers and receives notices.
type Service struct {
	cfg   Config
	queue Queue

	// seen remembers, per deployment and service, the handler sets found registered (or queued) by this
	// process, so that launches carrying the PNS claim read the handler table once, not every time.
	mu   sync.Mutex
	seen map[string]bool
}

// New builds the service; it refuses a missing dependency.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Store == nil || cfg.Registrations == nil:
		return nil, errors.New("notice: Config.Store and Registrations are required")
	case cfg.Validator == nil || cfg.Validator.Keys == nil || cfg.Validator.Nonces == nil:
		return nil, errors.New("notice: Config.Validator with keys and a nonce store is required")
	case cfg.BaseURL == "":
		return nil, errors.New("notice: Config.BaseURL is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Service{cfg: cfg, seen: map[string]bool{}}, nil
}

// SetQueue connects the job queue (built after this service, since its worker calls RegisterHandlers). Without
// one, Seen registers nothing.
func (s *Service) SetQueue(q Queue) { s.queue = q }

// HandlerURL is where the platform of registration id sends notices.
func (s *Service) HandlerURL(registrationID int64) string {
	return s.cfg.BaseURL + "/lti/notices/" + strconv.FormatInt(registrationID, 10)
}

// Wanted are the notice types ltipub registers for with a platform that offers pns: those it acts on that the
// platform says it sends (all of them when it lists none).
func Wanted(pns *lti.PNSService) []string {
	var out []string
	for _, t := range lti.NoticeTypesHandled {
		if len(pns.NoticeTypesSupported) == 0 || pns.Supports(t) {
			out = append(out, t)
		}
	}
	return out
}

// Seen is told of every validated launch that carries the PNS claim: when ltipub's handlers are not registered
// at that deployment's service yet (or the service moved), it queues their registration. Failures are logged:
// a launch never fails for it, and the next launch asks again.
func (s *Service) Seen(ctx context.Context, reg tool.Registration, deploymentID string, pns *lti.PNSService) {
	if pns == nil || pns.ServiceURL == "" || s.queue == nil {
		return
	}
	if len(pns.Scope) > 0 && !pns.Scope.Contains(lti.ScopeNoticeHandlers) {
		return
	}
	types := Wanted(pns)
	if len(types) == 0 {
		return
	}
	key := fmt.Sprintf("%d\x00%s\x00%s\x00%s", reg.ID, deploymentID, pns.ServiceURL, strings.Join(types, ","))
	s.mu.Lock()
	done := s.seen[key]
	s.mu.Unlock()
	if done {
		return
	}
	have, err := s.cfg.Store.NoticeHandlers(ctx, reg.ID, deploymentID)
	if err != nil {
		s.cfg.Log.WarnContext(ctx, "read notice handlers", slog.Int64("registration_id", reg.ID), slog.Any("error", err))
		return
	}
	missing := false
	for _, t := range types {
		i := slices.IndexFunc(have, func(h Handler) bool { return h.NoticeType == t })
		if i < 0 || !have[i].Registered() || have[i].ServiceURL != pns.ServiceURL || have[i].HandlerURL != s.HandlerURL(reg.ID) {
			missing = true
			break
		}
	}
	if missing {
		req := Request{RegistrationID: reg.ID, DeploymentID: deploymentID, ServiceURL: pns.ServiceURL, Types: types}
		if err := s.queue.QueueNoticeHandlers(context.WithoutCancel(ctx), req); err != nil {
			s.cfg.Log.WarnContext(ctx, "queue notice handler registration", slog.Int64("registration_id", reg.ID),
				slog.String("deployment_id", deploymentID), slog.Any("error", err))
			return
		}
		s.cfg.Log.InfoContext(ctx, "notice handler registration queued", slog.Int64("registration_id", reg.ID),
			slog.String("deployment_id", deploymentID), slog.String("types", strings.Join(types, " ")))
	}
	// Registered, or queued (the job retries until the platform takes it): this process need not look again.
	s.mu.Lock()
	s.seen[key] = true
	s.mu.Unlock()
}

// RegisterHandlers is the job's work: a PUT per notice type to the deployment's notice handler service with c (a
// client whose token has ScopeNoticeHandlers), each result saved. It is idempotent (a PUT replaces the type's
// handler). It returns the first failure the job should retry (lti.Retryable); a refusal is saved on the handler
// for the admin and reported as permanent.
func (s *Service) RegisterHandlers(ctx context.Context, c *lti.ServiceClient, req Request) error {
	reg, err := s.cfg.Registrations.Registration(ctx, req.RegistrationID)
	if errors.Is(err, store.ErrNotFound) {
		return &Permanent{Reason: fmt.Sprintf("registration %d was deleted", req.RegistrationID)}
	}
	if err != nil {
		return err
	}
	if !reg.HasDeployment(req.DeploymentID) {
		return &Permanent{Reason: fmt.Sprintf("deployment %q is no longer registered for %s", req.DeploymentID, reg.Name)}
	}
	handlerURL := s.HandlerURL(reg.ID)
	var first error
	for _, t := range req.Types {
		h := Handler{RegistrationID: reg.ID, DeploymentID: req.DeploymentID, NoticeType: t, ServiceURL: req.ServiceURL, HandlerURL: handlerURL}
		got, err := c.PutNoticeHandler(ctx, req.ServiceURL, lti.NoticeHandler{NoticeType: t, Handler: handlerURL})
		h.UpdatedAt = s.cfg.Now()
		switch {
		case err == nil && got.Handler != "" && got.Handler != handlerURL:
			err = fmt.Errorf("the platform holds handler %q for %s instead of %q", got.Handler, t, handlerURL)
			h.Error = err.Error()
		case err == nil:
			h.RegisteredAt = h.UpdatedAt
		default:
			h.Error = describe(err)
		}
		if serr := s.cfg.Store.SaveNoticeHandler(ctx, h); serr != nil {
			return serr
		}
		if err != nil {
			s.cfg.Log.WarnContext(ctx, "notice handler not registered", slog.Int64("registration_id", reg.ID),
				slog.String("deployment_id", req.DeploymentID), slog.String("notice_type", t), slog.Any("error", err))
			if first == nil {
				first = err
			}
			continue
		}
		s.cfg.Log.InfoContext(ctx, "notice handler registered", slog.Int64("registration_id", reg.ID),
			slog.String("deployment_id", req.DeploymentID), slog.String("notice_type", t), slog.String("handler", handlerURL))
	}
	if first != nil && !lti.Retryable(first) {
		return &Permanent{Reason: describe(first), Err: first}
	}
	return first
}

// Permanent is a registration failure that retrying will not fix (the job stops; the handler keeps the error).
type Permanent struct {
	Reason string
	Err    error
}

func (p *Permanent) Error() string { return "notice handler registration: " + p.Reason }
func (p *Permanent) Unwrap() error { return p.Err }

func describe(err error) string {
	var le *lti.Error
	if errors.As(err, &le) {
		if le.Err != nil {
			return le.Description + ": " + le.Err.Error()
		}
		return le.Description
	}
	return err.Error()
}

// Handlers lists ltipub's handler registrations at a registration's deployment.
func (s *Service) Handlers(ctx context.Context, registrationID int64, deploymentID string) ([]Handler, error) {
	return s.cfg.Store.NoticeHandlers(ctx, registrationID, deploymentID)
}

// Recent lists the latest notices received from a registration's platform.
func (s *Service) Recent(ctx context.Context, registrationID int64, limit int) ([]Record, error) {
	if limit <= 0 {
		limit = 50
	}
	return s.cfg.Store.Notices(ctx, registrationID, limit)
}

// Result is what became of one notice of a batch.
type Result struct {
	NoticeID string `json:"notice_id,omitempty"`
	Type     string `json:"type,omitempty"`
	Outcome  string `json:"outcome"`
	Code     string `json:"code,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Receipt is what a batch became, in order.
type Receipt struct {
	Results []Result `json:"results"`
}

// Refused reports whether any notice of the batch was refused.
func (r Receipt) Refused() bool {
	return slices.ContainsFunc(r.Results, func(x Result) bool { return x.Outcome == Refused })
}

// Receive verifies and acts on a batch of notices from registration registrationID's platform. Each notice is
// verified on its own: a forged one is refused (and logged) without stopping the others. The error is for the
// batch as a whole (an unknown registration) or a storage failure.
func (s *Service) Receive(ctx context.Context, registrationID int64, jwts []string) (Receipt, error) {
	reg, err := s.cfg.Registrations.Registration(ctx, registrationID)
	if errors.Is(err, store.ErrNotFound) {
		return Receipt{}, refusal.New("notice_registration_unknown", refusal.NotFound, refusal.Admin,
			fmt.Sprintf("No platform registration %d exists on this tool, so its notices cannot be verified.", registrationID),
			"Register the notice handler again from a launch of the registered platform (ltipub does this on the next launch).").With("ID", registrationID)
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("load registration %d: %w", registrationID, err)
	}
	if !reg.HasPlatformDetails() {
		return Receipt{}, refusal.New("notice_registration_pending", refusal.Unauthorized, refusal.Admin,
			fmt.Sprintf("The registration %q has no platform details (issuer, client ID, keyset URL), so its notices cannot be verified.", reg.Name),
			"Complete the registration's platform details.").With("Name", reg.Name)
	}
	var rc Receipt
	for _, raw := range jwts {
		res, err := s.receive(ctx, reg, raw)
		if err != nil {
			return rc, err
		}
		rc.Results = append(rc.Results, res)
	}
	return rc, nil
}

func (s *Service) receive(ctx context.Context, reg tool.Registration, raw string) (Result, error) {
	n, err := s.cfg.Validator.ValidateNotice(ctx, raw, lti.Expect{Issuer: reg.Issuer, ClientID: reg.ClientID,
		JWKSURL: reg.JWKSURL, DeploymentKnown: reg.HasDeployment})
	if err != nil {
		var le *lti.Error
		if !errors.As(err, &le) {
			return Result{}, err // the nonce store failed
		}
		res := Result{Outcome: Refused, Code: string(le.Code), Reason: le.Description}
		attrs := []any{slog.Int64("registration_id", reg.ID), slog.String("issuer", reg.Issuer),
			slog.String("code", res.Code), slog.String("reason", res.Reason)}
		if n != nil {
			res.NoticeID, res.Type = n.Notice.ID, n.Notice.Type
			attrs = append(attrs, slog.String("notice_type", n.Notice.Type), slog.String("deployment_id", n.DeploymentID))
		}
		s.cfg.Log.WarnContext(ctx, "PNS notice refused", attrs...)
		return res, nil
	}
	now := s.cfg.Now()
	rec := Record{RegistrationID: reg.ID, DeploymentID: n.DeploymentID, NoticeID: n.Notice.ID, Type: n.Notice.Type,
		Claims: string(n.Claims), ReceivedAt: now}
	if n.Context != nil {
		rec.ContextID = n.Context.ID
	}
	switch n.Notice.Type {
	case lti.NoticeContextCopy:
		for _, origin := range n.Origins {
			if origin == n.Context.ID {
				continue
			}
			if err := s.cfg.Store.SaveContextCopy(ctx, ContextCopy{RegistrationID: reg.ID, DeploymentID: n.DeploymentID,
				ContextID: n.Context.ID, OriginContextID: origin, NoticeID: n.Notice.ID, CopiedAt: now}); err != nil {
				return Result{}, fmt.Errorf("record context copy: %w", err)
			}
		}
		rec.Outcome = Handled
		rec.Summary = fmt.Sprintf("Course %s copied from %s: its links reach the same published resources.",
			contextName(n.Context), strings.Join(n.Origins, ", "))
	case lti.NoticeHelloWorld:
		rec.Outcome = Handled
		rec.Summary = helloWorld(n.Claims)
	default:
		rec.Outcome = Acknowledged
		rec.Summary = "A notice of a type ltipub does not act on; acknowledged."
	}
	err = s.cfg.Store.RecordNotice(ctx, &rec)
	if errors.Is(err, store.ErrAlreadyExists) {
		rec.Outcome = Duplicate
	} else if err != nil {
		return Result{}, fmt.Errorf("record notice: %w", err)
	}
	attrs := []any{slog.Int64("registration_id", reg.ID), slog.String("deployment_id", n.DeploymentID),
		slog.String("notice_type", n.Notice.Type), slog.String("notice_id", n.Notice.ID), slog.String("outcome", rec.Outcome)}
	if rec.Outcome == Acknowledged {
		s.cfg.Log.InfoContext(ctx, "PNS notice of an unhandled type acknowledged", attrs...)
	} else {
		s.cfg.Log.InfoContext(ctx, "PNS notice received", attrs...)
	}
	return Result{NoticeID: n.Notice.ID, Type: n.Notice.Type, Outcome: rec.Outcome}, nil
}

func contextName(c *lti.Context) string {
	if c.Title != "" {
		return fmt.Sprintf("%q (%s)", c.Title, c.ID)
	}
	return c.ID
}

// helloWorld is what a hello world notice says: Canvas puts a title and a message in its own claim.
func helloWorld(claims json.RawMessage) string {
	var c map[string]json.RawMessage
	if json.Unmarshal(claims, &c) == nil {
		for k, v := range c {
			if !strings.HasSuffix(k, "/hello_world") {
				continue
			}
			var hw struct{ Title, Message string }
			if json.Unmarshal(v, &hw) == nil && (hw.Title != "" || hw.Message != "") {
				return strings.TrimSpace(hw.Title + " " + hw.Message)
			}
		}
	}
	return "Hello world: the platform's notices reach ltipub."
}
