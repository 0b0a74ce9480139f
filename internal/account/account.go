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
	ErrTooManyAttempts = errors.New("too many failed sign-ins for this username: wait 15 minutes, or ask a site administrator to set a new password")
	// ErrNoPassword means the account cannot sign in with a password (LTI accounts, until one is set).
	ErrNoPassword = errors.New("this account has no password: it signs in by launching from a platform")
	// ErrSuspended means a site administrator suspended the account.
	ErrSuspended = errors.New("this account is suspended: ask a site administrator")
)

// ValidationError names the field that is wrong and why.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// Service creates and authenticates accounts.
type Service struct {
	Store Store
	Now   func() time.Time
	// Failures, when set, slows password guessing: after MaxFailures failed sign-ins for one username within
	// FailureWindow, Authenticate refuses that username until the window has passed.
	Failures FailureStore
}

// FailureStore remembers failed sign-ins; it lives in the database so that every instance counts alike.
type FailureStore interface {
	RecordLoginFailure(ctx context.Context, username string, at time.Time) error
	CountLoginFailures(ctx context.Context, username string, since time.Time) (int, error)
	ClearLoginFailures(ctx context.Context, username string, before time.Time) error
}

// Sign-in throttling: 10 failures in 15 minutes lock a username for the rest of the window. Ten is far above
// honest typos and far below what guessing needs.
const (
	MaxFailures   = 10
	FailureWindow = 15 * time.Minute
)

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
			return User{}, &ValidationError{Field: "email", Message: fmt.Sprintf("%q is not an email address", n.Email)}
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

// Authenticate checks a username and password and records the login. Failed attempts are counted per username
// (known or not, so the answer does not reveal which exist) when a FailureStore is set.
func (s *Service) Authenticate(ctx context.Context, username, password string) (User, error) {
	username = strings.TrimSpace(username)
	key := strings.ToLower(username)
	if s.Failures != nil {
		n, err := s.Failures.CountLoginFailures(ctx, key, s.now().Add(-FailureWindow))
		if err != nil {
			return User{}, fmt.Errorf("count failed sign-ins: %w", err)
		}
		if n >= MaxFailures {
			return User{}, ErrTooManyAttempts
		}
	}
	u, err := s.authenticate(ctx, username, password)
	if s.Failures != nil {
		switch {
		case errors.Is(err, ErrBadCredentials):
			if ferr := s.Failures.RecordLoginFailure(ctx, key, s.now()); ferr != nil {
				return User{}, fmt.Errorf("record failed sign-in: %w", ferr)
			}
		case err == nil:
			if ferr := s.Failures.ClearLoginFailures(ctx, key, s.now().Add(-FailureWindow)); ferr != nil {
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

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// ValidateUsername accepts 2–100 characters of letters, digits and . _ - @.
func ValidateUsername(name string) error {
	if len(name) < 2 || len(name) > 100 {
		return &ValidationError{Field: "username", Message: "must be 2 to 100 characters long"}
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@", r)) {
			return &ValidationError{Field: "username", Message: fmt.Sprintf("may hold letters, digits and . _ - @ only, not %q", r)}
		}
	}
	return nil
}

// ValidatePassword enforces the minimum length; length beats composition rules (NIST SP 800-63B).
func ValidatePassword(pw string) error {
	if len([]rune(pw)) < MinPasswordLength {
		return &ValidationError{Field: "password", Message: fmt.Sprintf("must be at least %d characters long", MinPasswordLength)}
	}
	if len(pw) > 1024 {
		return &ValidationError{Field: "password", Message: "must be at most 1024 bytes long"}
	}
	return nil
}
