package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/store"
)

// UserFilter selects one page of the users list: Query matches a part of the username, name or email (any case);
// the page starts after the username After (keyset paging, so a page costs the same at 50,000 accounts as at 50).
type UserFilter struct {
	Query string
	After string
	Limit int
	// Offset skips that many accounts first (the web list's numbered pages; the CLI pages with After).
	Offset int
}

// PlatformAccount is a platform user linked to a local account.
type PlatformAccount struct {
	Issuer         string
	Subject        string
	RegistrationID int64
	Platform       string // the registration's name; empty when it was deleted or for LTI 1.1
	LastLaunchAt   time.Time
}

// EnrolmentSummary is one enrolment of an account, with its course's name.
type EnrolmentSummary struct {
	CourseID   int64
	CourseName string
	Role       string
	Status     string
	Method     string
}

// Dependents is what deleting an account deletes with it.
type Dependents struct {
	PlatformAccounts int `json:"platform_accounts"`
	Enrolments       int `json:"enrolments"`
	Grades           int `json:"grades"`
	Submissions      int `json:"submissions"`
	QuizAttempts     int `json:"quiz_attempts"`
	// CoursesCreated keep existing; they only forget who created them.
	CoursesCreated int `json:"courses_created"`
}

// AdminStore is what user administration needs from storage.
type AdminStore interface {
	UserByID(ctx context.Context, id int64) (User, error)
	UserByUsername(ctx context.Context, username string) (User, error)
	ListUsersPage(ctx context.Context, f UserFilter) ([]User, error)
	CountUsersMatching(ctx context.Context, query string) (int, error)
	CountActiveAdmins(ctx context.Context) (int, error)
	SetSuspended(ctx context.Context, id int64, at time.Time) error
	SetMustChangePassword(ctx context.Context, id int64, must bool) error
	UserPlatformAccounts(ctx context.Context, id int64) ([]PlatformAccount, error)
	UserEnrolments(ctx context.Context, id int64) ([]EnrolmentSummary, error)
	UserDependents(ctx context.Context, id int64) (Dependents, error)
	DeleteUser(ctx context.Context, id int64) error
	MergeStore
}

// Admin is user administration: what a site administrator (or the CLI) does to other people's accounts.
type Admin struct {
	Store    AdminStore
	Accounts *Service
}

// ErrLastAdmin refuses leaving the site without an administrator who can sign in.
var ErrLastAdmin = errors.New("this is the only site administrator who can sign in: make another account an administrator first")

// ErrNotFound means there is no such account.
var ErrNotFound = errors.New("no such account")

// DefaultPageSize is the users list's page.
const DefaultPageSize = 50

// List gives one page of accounts by username, and whether another page follows.
func (a *Admin) List(ctx context.Context, f UserFilter) (users []User, more bool, err error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = DefaultPageSize
	}
	f.Query = strings.TrimSpace(f.Query)
	want := f.Limit
	f.Limit++
	users, err = a.Store.ListUsersPage(ctx, f)
	if err != nil {
		return nil, false, fmt.Errorf("list users: %w", err)
	}
	if len(users) > want {
		return users[:want], true, nil
	}
	return users, false, nil
}

// Count counts the accounts a query matches (all with an empty query).
func (a *Admin) Count(ctx context.Context, query string) (int, error) {
	return a.Store.CountUsersMatching(ctx, strings.TrimSpace(query))
}

// Find loads an account by ID, or by username when ref is not a number.
func (a *Admin) Find(ctx context.Context, ref string) (User, error) {
	var id int64
	if _, err := fmt.Sscanf(ref, "%d", &id); err == nil && fmt.Sprint(id) == ref {
		u, err := a.Store.UserByID(ctx, id)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return u, err
		}
	}
	u, err := a.Store.UserByUsername(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return User{}, fmt.Errorf("%w: %q is neither an account ID nor a username", ErrNotFound, ref)
	}
	return u, err
}

// Detail is an account with what links to it.
type Detail struct {
	User             User
	PlatformAccounts []PlatformAccount
	Enrolments       []EnrolmentSummary
	LastLaunchAt     time.Time
	// Locked: the account had too many failed sign-ins recently.
	Locked bool
}

// Detail loads an account's page.
func (a *Admin) Detail(ctx context.Context, id int64) (Detail, error) {
	u, err := a.Store.UserByID(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{User: u}
	if d.PlatformAccounts, err = a.Store.UserPlatformAccounts(ctx, id); err != nil {
		return Detail{}, err
	}
	for _, p := range d.PlatformAccounts {
		if p.LastLaunchAt.After(d.LastLaunchAt) {
			d.LastLaunchAt = p.LastLaunchAt
		}
	}
	if d.Enrolments, err = a.Store.UserEnrolments(ctx, id); err != nil {
		return Detail{}, err
	}
	if f := a.Accounts.Failures; f != nil {
		// Locked: failed sign-ins within the window at least as many as one client gets free, so that someone is
		// being slowed down on this username (attempts refused for waiting are not counted, so ten quick wrong
		// passwords from one browser count six).
		now := a.Accounts.now()
		fc, err := f.LoginFailures(ctx, strings.ToLower(u.Username), "", now.Add(-AccountWindow), now.Add(-ClientWindow))
		if err != nil {
			return Detail{}, err
		}
		d.Locked = fc.Account.N >= PairFreeFailures
	}
	return d, nil
}

// Suspend stops an account from signing in and launching; its sessions end at their next request.
func (a *Admin) Suspend(ctx context.Context, id int64) (User, error) {
	u, err := a.Store.UserByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	if u.Suspended() {
		return u, nil
	}
	if err := a.keepAnAdmin(ctx, u); err != nil {
		return User{}, err
	}
	now := a.Accounts.now()
	if err := a.Store.SetSuspended(ctx, id, now); err != nil {
		return User{}, err
	}
	u.SuspendedAt = now
	return u, nil
}

// Unsuspend lets a suspended account sign in and launch again.
func (a *Admin) Unsuspend(ctx context.Context, id int64) (User, error) {
	if err := a.Store.SetSuspended(ctx, id, time.Time{}); err != nil {
		return User{}, err
	}
	return a.Store.UserByID(ctx, id)
}

// SetPassword gives an account a new password; with mustChange its next sign-in must choose another one first
// (the usual case: the admin typed a temporary password). It also lifts a sign-in lock.
func (a *Admin) SetPassword(ctx context.Context, id int64, password string, mustChange bool) error {
	u, err := a.Store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if err := a.Accounts.SetPassword(ctx, id, password); err != nil {
		return err
	}
	if err := a.Store.SetMustChangePassword(ctx, id, mustChange); err != nil {
		return err
	}
	return a.Accounts.UnlockSignIn(ctx, u.Username)
}

// Delete deletes an account and what depends on it (see Dependents), never the last administrator.
func (a *Admin) Delete(ctx context.Context, id int64) error {
	u, err := a.Store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if err := a.keepAnAdmin(ctx, u); err != nil {
		return err
	}
	return a.Store.DeleteUser(ctx, id)
}

// keepAnAdmin refuses suspending or deleting the last administrator who can sign in.
func (a *Admin) keepAnAdmin(ctx context.Context, u User) error {
	if !u.IsAdmin || u.Suspended() {
		return nil
	}
	n, err := a.Store.CountActiveAdmins(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return ErrLastAdmin
	}
	return nil
}

// UnlockSignIn forgets a username's failed sign-ins, lifting the lock that too many of them put on it.
func (s *Service) UnlockSignIn(ctx context.Context, username string) error {
	if s.Failures == nil {
		return nil
	}
	_, err := s.Unlock(ctx, username)
	return err
}
