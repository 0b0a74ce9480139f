package launch

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
)

// The paths of a launch without third-party cookies that need the server: the page that reads the state back
// from the platform's storage, the login page's report that it offered a new window, and the tickets that
// continue a landed launch in a new top-level window (see internal/web/lti_storage.go for the browser's side).

const (
	// windowTicketTTL is how long a person has to open the new window.
	windowTicketTTL = 2 * time.Minute
	// windowTicketIssuer is the nonce store's issuer for used window tickets.
	windowTicketIssuer = "ltipub:new-window"
)

// StorageLaunch is what the platform storage launch page needs: the pending state and its platform.
type StorageLaunch struct {
	State          State
	Registration   tool.Registration
	PlatformOrigin string
}

// PendingStorageLaunch reports whether a launch without a state cookie should go through ltipub's platform
// storage page first (see PendingStorage), with what the page needs.
func (s *Service) PendingStorageLaunch(ctx context.Context, state string) (StorageLaunch, bool, error) {
	st, ok, err := s.PendingStorage(ctx, state)
	if err != nil || !ok {
		return StorageLaunch{}, false, err
	}
	reg, err := s.regs.Registration(ctx, st.RegistrationID)
	if err != nil {
		return StorageLaunch{}, false, fmt.Errorf("load registration %d: %w", st.RegistrationID, err)
	}
	origin, err := Origin(reg.AuthURL)
	if err != nil {
		return StorageLaunch{}, false, fmt.Errorf("registration %d authentication URL: %w", reg.ID, err)
	}
	return StorageLaunch{State: st, Registration: reg, PlatformOrigin: origin}, true, nil
}

// fallbackReasons are what the login page reports when it offers a new window.
var fallbackReasons = map[string]struct{ code, reason string }{
	"cookies":     {"frame_cookies_blocked", "the browser blocked ltipub's cookies in the platform's frame and the platform offers no storage"},
	"timeout":     {CodeStorageTimeout, "the browser blocked ltipub's cookies in the frame and the platform's storage did not answer in time"},
	"origin":      {CodeStorageWrongOrigin, "the browser blocked ltipub's cookies in the frame and the storage answers came from another origin"},
	"unsupported": {CodeStorageUnsupported, "the browser blocked ltipub's cookies in the frame and the platform's storage lacks lti.put_data"},
	"error":       {CodeStorageError, "the browser blocked ltipub's cookies in the frame and the platform's storage answered with an error"},
}

// ErrUnknownFallback is a fallback report for no known login or reason.
var ErrUnknownFallback = errors.New("unknown login or fallback reason")

// RecordFallback records, in the login's launch log row, that its page found neither cookies nor platform
// storage and offered a new window (so admins see how many launches would have failed).
func (s *Service) RecordFallback(ctx context.Context, state, reason, detail, requestID string) error {
	fr, ok := fallbackReasons[reason]
	if !ok || state == "" {
		return ErrUnknownFallback
	}
	st, err := s.store.LoadState(ctx, state)
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnknownFallback
	}
	if err != nil {
		return err
	}
	text := fr.reason
	if detail != "" {
		text += " (" + orUnknown(detail) + ")"
	}
	e := &LogEntry{ID: st.LogID, Stage: StageLogin, RegistrationID: st.RegistrationID, Path: PathNewWindow, RequestID: requestID}
	if reg, err := s.regs.Registration(ctx, st.RegistrationID); err == nil {
		e.Issuer, e.ClientID = reg.Issuer, reg.ClientID
	}
	s.record(ctx, e, refuse(fr.code, refusal.Unauthorized, refusal.Learner, capitalize(text)+"; ltipub offered a new window.", fixRelaunch, nil))
	return nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ticketClaims continue a landed launch in a new window.
type ticketClaims struct {
	ID             string `json:"jti"`
	Expires        int64  `json:"exp"`
	UserID         int64  `json:"uid"`
	Scope          string `json:"scope"`
	To             string `json:"to"`
	ReturnURL      string `json:"ret,omitempty"`
	ReturnName     string `json:"ret_name,omitempty"`
	RegistrationID int64  `json:"reg"`
	Issuer         string `json:"iss"`
	ClientID       string `json:"client_id"`
	DeploymentID   string `json:"deployment_id"`
	MessageType    string `json:"message_type"`
	Subject        string `json:"sub"`
}

// Ticket signs a ticket that continues a landed launch in a new top-level window, with the session it started:
// signed by a key derived from the tool's own keys, valid for two minutes, single use. It is "" for a session
// nobody is signed in to.
func (s *Service) Ticket(ctx context.Context, l *Launch, sess Session, to string) (string, error) {
	if sess.UserID == 0 {
		return "", nil
	}
	c := ticketClaims{ID: lti.NewNonce(), Expires: s.now().Add(windowTicketTTL).Unix(),
		UserID: sess.UserID, Scope: sess.Scope, To: to, ReturnURL: sess.ReturnURL, ReturnName: sess.ReturnName,
		RegistrationID: l.Registration.ID, Issuer: l.Registration.Issuer, ClientID: l.Registration.ClientID,
		DeploymentID: l.Message.DeploymentID, MessageType: string(l.Message.MessageType), Subject: l.Message.Subject}
	keys, err := s.ticketKeys(ctx)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	body := base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, keys[0])
	mac.Write([]byte(body))
	return body + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// ticketKeys derives the window ticket keys from the tool's signing keys (active first): they live in the
// database, so every instance can check a ticket another one issued, and they rotate with the tool's keys.
func (s *Service) ticketKeys(ctx context.Context) ([][]byte, error) {
	ks, err := s.keys.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load tool keys: %w", err)
	}
	var out [][]byte
	for _, k := range ks {
		if k.Signing.Private == nil {
			continue
		}
		sum := sha256.Sum256(append([]byte("ltipub new-window ticket\x00"), k.Signing.Private.D.Bytes()...))
		out = append(out, sum[:])
	}
	if len(out) == 0 {
		return nil, errors.New("the tool has no signing key to derive ticket keys from")
	}
	return out, nil
}

func errTicket() *Refusal {
	return &Refusal{Code: "window_ticket_invalid", Kind: refusal.Invalid, Audience: refusal.Learner, Title: "This link cannot be used",
		Description: "The new-window link of this launch is expired, was already used, or was not made by ltipub.",
		Fix:         "Go back to your platform and open the activity again."}
}

func (s *Service) readTicket(ctx context.Context, raw string) (ticketClaims, error) {
	var c ticketClaims
	body, sig, ok := strings.Cut(raw, ".")
	if !ok {
		return c, errTicket()
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return c, errTicket()
	}
	keys, err := s.ticketKeys(ctx)
	if err != nil {
		return c, err
	}
	valid := false
	for _, k := range keys {
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(body))
		if hmac.Equal(mac.Sum(nil), got) {
			valid = true
			break
		}
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if !valid || err != nil || json.Unmarshal(payload, &c) != nil {
		return c, errTicket()
	}
	if s.now().Unix() > c.Expires || c.UserID == 0 || !strings.HasPrefix(c.To, "/") || strings.HasPrefix(c.To, "//") {
		return c, errTicket()
	}
	return c, nil
}

// RedeemTicket checks a new-window ticket and uses it up, and gives the session to start in the new window and
// where to go. sameOrigin says the browser posted it from ltipub's own page; nothing else may redeem one.
func (s *Service) RedeemTicket(ctx context.Context, raw string, sameOrigin bool, requestID string) (Session, string, error) {
	if !sameOrigin {
		return Session{}, "", &Refusal{Code: "window_not_same_origin", Kind: refusal.Forbidden, Audience: refusal.Learner,
			Title: "This link cannot be used", Description: "A new-window link of ltipub only works from ltipub's own page.",
			Fix: "Go back to your platform and open the activity again."}
	}
	c, err := s.readTicket(ctx, raw)
	entry := &LogEntry{Stage: StageNewWindow, Path: PathNewWindow, RegistrationID: c.RegistrationID,
		Issuer: c.Issuer, ClientID: c.ClientID, DeploymentID: c.DeploymentID, MessageType: c.MessageType, Subject: c.Subject,
		RequestID: requestID}
	if err == nil {
		err = s.validator.Nonces.UseNonce(ctx, windowTicketIssuer, c.ID, time.Unix(c.Expires, 0).Add(time.Minute))
		if errors.Is(err, lti.ErrNonceReused) {
			err = errTicket()
		}
	}
	var rf *Refusal
	if err != nil && !errors.As(err, &rf) {
		return Session{}, "", err
	}
	s.record(ctx, entry, err)
	if err != nil {
		return Session{}, "", err
	}
	s.log.InfoContext(ctx, "LTI launch continued in a new window", "user_id", c.UserID, "to", c.To, "registration_id", c.RegistrationID)
	return Session{UserID: c.UserID, Scope: c.Scope, ReturnURL: c.ReturnURL, ReturnName: c.ReturnName}, c.To, nil
}
