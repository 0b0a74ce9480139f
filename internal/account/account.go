// Package account holds ltipub's local users: who they are, how they sign in, and how LTI launches later link
// platform users to them (the Auth field).
package account

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/ltipub/ltipub/internal/store"
)

// Auth says how an account was made and how it signs in.
type Auth string

const (
	// AuthManual accounts were made by an admin or the CLI and sign in with a password.
	AuthManual Auth = "manual"
	// AuthLTI accounts were made by an LTI launch; they sign in by launching.
	AuthLTI Auth = "lti"
)

// User is a local account.
type User struct {
	ID              int64
	Username        string
	Email           string
	FullName        string
	PasswordHash    string
	Auth            Auth
	IsAdmin         bool
	IsCourseCreator bool
	Language        string
	Timezone        string
	Institution     string
	Country         string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	LastLoginAt     time.Time
	// SuspendedAt is when an admin suspended the account (zero: not suspended): it can neither sign in nor launch.
	SuspendedAt time.Time
	// MustChangePassword makes the next sign-in choose a new password before anything else.
	MustChangePassword bool
}

// Suspended reports whether the account is suspended.
func (u User) Suspended() bool { return !u.SuspendedAt.IsZero() }

// DisplayName is the full name, or the username when there is none.
func (u User) DisplayName() string {
	if u.FullName != "" {
		return u.FullName
	}
	return u.Username
}

// Store is what the account service needs from storage.
type Store interface {
	CreateUser(ctx context.Context, u *User) error
	UserByID(ctx context.Context, id int64) (User, error)
	UserByUsername(ctx context.Context, username string) (User, error)
	CountUsers(ctx context.Context) (int, error)
	UpdateUser(ctx context.Context, u User) error
	SetPasswordHash(ctx context.Context, id int64, hash string) error
	TouchLogin(ctx context.Context, id int64, at time.Time) error
}

var (
	// ErrBadCredentials is the one answer for an unknown user or a wrong password, so that the login form does not
	// tell an attacker which usernames exist.
	ErrBadCredentials = errors.New("the username or password is wrong")
	// ErrUsernameTaken means another account already has the username.
	ErrUsernameTaken = errors.New("that username is already taken")
	// ErrTooManyAttempts means the username had too many failed sign-ins recently.
	// The error returned is a *ThrottledError, which says how long to wait.
	ErrTooManyAttempts = errors.New("too many failed sign-ins: wait, or ask a site administrator to unlock the username")
	// ErrNoPassword means the account cannot sign in with a password (LTI accounts, until one is set).
	ErrNoPassword = errors.New("this account has no password: it signs in by launching from a platform")
	// ErrSuspended means a site administrator suspended the account.
	ErrSuspended = errors.New("this account is suspended: ask a site administrator")
)

// ValidationError names the field that is wrong and why.
type ValidationError struct {
	Field   string
	Message string // the English, for logs and the CLI
	// Code and Args name the mistake for the message catalogs ("validation.<code>", Args its placeholders), for
	// pages in the reader's language (see course.ValidationError).
	Code string
	Args map[string]any
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// Service creates and authenticates accounts.
type Service struct {
	Store Store
	Now   func() time.Time
	// Failures, when set, slows password guessing down per client and per username (see ClientWindow).
	Failures FailureStore
}

// FailureStore remembers failed sign-ins, with the client they came from; it lives in the database so that every
// instance counts alike.
type FailureStore interface {
	RecordLoginFailure(ctx context.Context, username, client string, at time.Time) error
	LoginFailures(ctx context.Context, username, client string, accountSince, clientSince time.Time) (FailureCounts, error)
	ClearLoginFailures(ctx context.Context, username, client string, before time.Time) error
	UnlockLogin(ctx context.Context, username string) (int, error)
}

// FailureCount is a number of failed sign-ins and the time of the latest.
type FailureCount struct {
	N    int
	Last time.Time
}

// FailureCounts are the failed sign-ins that concern one attempt: for the username from any client within
// AccountWindow (Account), and within ClientWindow for the username from this client (Pair) and from this client
// for any username (Client).
type FailureCounts struct {
	Account, Pair, Client FailureCount
}

// Sign-in throttling. Beyond a free allowance, each further attempt must wait a delay that doubles with every
// failure, counted from the latest failure:
//
//   - per client and username: after PairFreeFailures within ClientWindow, up to ClientMaxDelay. This is what
//     slows a guesser down (to a few dozen guesses a day), and it is tied to the guesser's address, so it never
//     stands in the owner's way on another one.
//   - per client, any username: after ClientFreeFailures within ClientWindow, up to ClientMaxDelay, against one
//     address trying many usernames. It is higher, so that many people behind one campus address are not held up
//     by a few typos.
//   - per username, any client: after AccountFreeFailures within AccountWindow, capped at AccountMaxDelay,
//     against guessing spread over many addresses. The cap is short so that the owner, from a new address, always
//     gets in within a minute whatever strangers do; it still holds a distributed guesser to one try per
//     AccountMaxDelay.
//
// An attempt refused for waiting is not checked and not counted, so refused attempts do not lengthen anybody's wait.
const (
	ClientWindow        = 24 * time.Hour
	ClientMaxDelay      = time.Hour
	AccountWindow       = 15 * time.Minute
	PairFreeFailures    = 5
	ClientFreeFailures  = 30
	AccountFreeFailures = 10
	AccountMaxDelay     = 30 * time.Second
)

// ThrottledError is ErrTooManyAttempts with the wait: Wait is how long until the next attempt is checked, and
// ByClient says whether the wait is the client's own (its failures) rather than the account's (everyone's).
type ThrottledError struct {
	Wait     time.Duration
	ByClient bool
}

func (e *ThrottledError) Error() string {
	who := "for this username"
	if e.ByClient {
		who = "from this address"
	}
	return fmt.Sprintf("too many failed sign-ins %s: wait %s", who, e.Wait.Round(time.Second))
}

// Is makes errors.Is(err, ErrTooManyAttempts) hold.
func (e *ThrottledError) Is(target error) bool { return target == ErrTooManyAttempts }

// throttleDelay is how long to wait after the latest of n failures when the first free ones cost no wait: 1 s
// after the free ones, doubling with each failure after that, at most max.
func throttleDelay(n, free int, max time.Duration) time.Duration {
	if n < free {
		return 0
	}
	shift := n - free
	if shift > 20 {
		return max
	}
	d := time.Second << shift
	if d > max {
		return max
	}
	return d
}

// wait is how long until an attempt with these counts may be checked, at now.
func (fc FailureCounts) wait(now time.Time) (time.Duration, bool) {
	var longest time.Duration
	byClient := false
	for _, r := range []struct {
		c      FailureCount
		free   int
		max    time.Duration
		client bool
	}{
		{fc.Pair, PairFreeFailures, ClientMaxDelay, true},
		{fc.Client, ClientFreeFailures, ClientMaxDelay, true},
		{fc.Account, AccountFreeFailures, AccountMaxDelay, false},
	} {
		if w := r.c.Last.Add(throttleDelay(r.c.N, r.free, r.max)).Sub(now); w > longest {
			longest, byClient = w, r.client
		}
	}
	return longest, byClient
}

// clientKey is the context key of the client address (WithClient).
type clientKey struct{}

// WithClient names the client an attempt comes from (its IP address, or the network for IPv6); Authenticate
// throttles per client as well as per username. The web layer sets it on every request.
func WithClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

func clientFrom(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(string)
	return c
}

// Unlock forgets every failed sign-in for username, from every client, so that it can sign in at once; it returns
// how many failures there were. A site admin uses it (web and CLI) when an owner is held up.
func (s *Service) Unlock(ctx context.Context, username string) (int, error) {
	if s.Failures == nil {
		return 0, nil
	}
	n, err := s.Failures.UnlockLogin(ctx, strings.ToLower(strings.TrimSpace(username)))
	if err != nil {
		return 0, fmt.Errorf("unlock sign-in of %q: %w", username, err)
	}
	return n, nil
}

// NewUser is what it takes to create an account.
type NewUser struct {
	Username        string
	Email           string
	FullName        string
	Password        string // empty for LTI accounts
	Auth            Auth
	IsAdmin         bool
	IsCourseCreator bool
	Language        string
	Timezone        string
	Institution     string
	Country         string

	// MustChangePassword: the first sign-in must choose a new password (a generated one).
	MustChangePassword bool
}

// MinPasswordLength is the shortest password the service accepts.
const MinPasswordLength = 10

// Create validates n and stores a new account.
func (s *Service) Create(ctx context.Context, n NewUser) (User, error) {
	n.Username = strings.TrimSpace(n.Username)
	n.Email = strings.TrimSpace(n.Email)
	if n.Auth == "" {
		n.Auth = AuthManual
	}
	if err := ValidateUsername(n.Username); err != nil {
		return User{}, err
	}
	if n.Email != "" {
		if _, err := mail.ParseAddress(n.Email); err != nil {
			return User{}, &ValidationError{Field: "email", Message: fmt.Sprintf("%q is not an email address", n.Email), Code: "account.email", Args: map[string]any{"Value": n.Email}}
		}
	}
	u := User{
		Username: n.Username, Email: n.Email, FullName: strings.TrimSpace(n.FullName), Auth: n.Auth,
		IsAdmin: n.IsAdmin, IsCourseCreator: n.IsCourseCreator || n.IsAdmin,
		Language: n.Language, Timezone: n.Timezone, Institution: n.Institution, Country: n.Country,
		MustChangePassword: n.MustChangePassword,
	}
	if n.Auth == AuthManual || n.Password != "" {
		if err := ValidatePassword(n.Password); err != nil {
			return User{}, err
		}
		h, err := HashPassword(n.Password)
		if err != nil {
			return User{}, err
		}
		u.PasswordHash = h
	}
	now := s.now()
	u.CreatedAt, u.UpdatedAt = now, now
	if err := s.Store.CreateUser(ctx, &u); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return User{}, ErrUsernameTaken
		}
		return User{}, fmt.Errorf("create user %q: %w", n.Username, err)
	}
	return u, nil
}

// Authenticate checks a username and password and records the login. When a FailureStore is set, failed attempts
// are counted per username (known or not, so the answer does not reveal which exist) and per client (WithClient),
// and attempts that come too soon get a *ThrottledError (see the throttling constants).
func (s *Service) Authenticate(ctx context.Context, username, password string) (User, error) {
	username = strings.TrimSpace(username)
	key, client := strings.ToLower(username), clientFrom(ctx)
	if s.Failures != nil {
		now := s.now()
		fc, err := s.Failures.LoginFailures(ctx, key, client, now.Add(-AccountWindow), now.Add(-ClientWindow))
		if err != nil {
			return User{}, fmt.Errorf("count failed sign-ins: %w", err)
		}
		if wait, byClient := fc.wait(now); wait > 0 {
			return User{}, &ThrottledError{Wait: wait, ByClient: byClient}
		}
	}
	u, err := s.authenticate(ctx, username, password)
	if s.Failures != nil {
		switch {
		case errors.Is(err, ErrBadCredentials):
			if ferr := s.Failures.RecordLoginFailure(ctx, key, client, s.now()); ferr != nil {
				return User{}, fmt.Errorf("record failed sign-in: %w", ferr)
			}
		case err == nil:
			// The owner's own typos from this client are forgiven; strangers' failures from elsewhere still count
			// against the username, so that a distributed guesser stays slowed.
			if ferr := s.Failures.ClearLoginFailures(ctx, key, client, s.now().Add(-ClientWindow)); ferr != nil {
				return User{}, fmt.Errorf("clear failed sign-ins: %w", ferr)
			}
		}
	}
	return u, err
}

func (s *Service) authenticate(ctx context.Context, username, password string) (User, error) {
	u, err := s.Store.UserByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as a real check, so response times do not reveal which usernames exist.
		_ = CheckPassword(dummyHash, password)
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("load user %q: %w", username, err)
	}
	if u.PasswordHash == "" {
		_ = CheckPassword(dummyHash, password)
		return User{}, ErrBadCredentials
	}
	if err := CheckPassword(u.PasswordHash, password); err != nil {
		return User{}, ErrBadCredentials
	}
	if u.Suspended() { // told only to whoever knows the password
		return User{}, ErrSuspended
	}
	now := s.now()
	if err := s.Store.TouchLogin(ctx, u.ID, now); err != nil {
		return User{}, fmt.Errorf("record login of %q: %w", username, err)
	}
	u.LastLoginAt = now
	return u, nil
}

// SetPassword replaces a user's password.
func (s *Service) SetPassword(ctx context.Context, id int64, password string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.Store.SetPasswordHash(ctx, id, h)
}

// SetLanguage sets the language a user reads pages in when a launch does not name one ("" follows the browser).
// The caller checks that ltipub speaks it.
func (s *Service) SetLanguage(ctx context.Context, id int64, tag string) (User, error) {
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	u.Language, u.UpdatedAt = tag, s.now()
	if err := s.Store.UpdateUser(ctx, u); err != nil {
		return User{}, fmt.Errorf("set the language of user %d: %w", id, err)
	}
	return u, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// ValidateUsername accepts 2–100 characters of letters, digits and . _ - @.
func ValidateUsername(name string) error {
	if len(name) < 2 || len(name) > 100 {
		return &ValidationError{Field: "username", Message: "must be 2 to 100 characters long", Code: "account.username_length"}
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@", r)) {
			return &ValidationError{Field: "username", Message: fmt.Sprintf("may hold letters, digits and . _ - @ only, not %q", r), Code: "account.username_chars", Args: map[string]any{"Value": string(r)}}
		}
	}
	return nil
}

// ValidatePassword enforces the minimum length; length beats composition rules (NIST SP 800-63B).
func ValidatePassword(pw string) error {
	if len([]rune(pw)) < MinPasswordLength {
		return &ValidationError{Field: "password", Message: fmt.Sprintf("must be at least %d characters long", MinPasswordLength), Code: "account.password_short", Args: map[string]any{"Min": MinPasswordLength}}
	}
	if len(pw) > 1024 {
		return &ValidationError{Field: "password", Message: "must be at most 1024 bytes long", Code: "account.password_long"}
	}
	return nil
}
