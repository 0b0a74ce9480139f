package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/store"
)

const userColumns = `id, username, email, full_name, password_hash, auth, is_admin, is_course_creator,
	language, timezone, institution, country, created_at, updated_at, last_login_at, suspended_at, must_change_password`

func scanUser(sc interface{ Scan(...any) error }) (account.User, error) {
	var u account.User
	var created, updated int64
	var lastLogin, suspended sql.NullInt64
	var auth string
	err := sc.Scan(&u.ID, &u.Username, &u.Email, &u.FullName, &u.PasswordHash, &auth, &u.IsAdmin, &u.IsCourseCreator,
		&u.Language, &u.Timezone, &u.Institution, &u.Country, &created, &updated, &lastLogin,
		&suspended, &u.MustChangePassword)
	if err != nil {
		return account.User{}, mapErr(err)
	}
	u.Auth = account.Auth(auth)
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt = fromMicros(created), fromMicros(updated), fromNullMicros(lastLogin)
	u.SuspendedAt = fromNullMicros(suspended)
	return u, nil
}

// CreateUser inserts u and sets its ID.
func (s *Store) CreateUser(ctx context.Context, u *account.User) error {
	id, err := s.c().insertID(ctx, `INSERT INTO users (username, email, full_name, password_hash, auth, is_admin,
		is_course_creator, language, timezone, institution, country, created_at, updated_at, must_change_password)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		u.Username, u.Email, u.FullName, u.PasswordHash, string(u.Auth), u.IsAdmin, u.IsCourseCreator,
		u.Language, u.Timezone, u.Institution, u.Country, micros(u.CreatedAt), micros(u.UpdatedAt), u.MustChangePassword)
	if err != nil {
		return err
	}
	u.ID = id
	return nil
}

// UserByID loads one user.
func (s *Store) UserByID(ctx context.Context, id int64) (account.User, error) {
	return scanUser(s.c().row(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// UserByUsername loads one user by username.
func (s *Store) UserByUsername(ctx context.Context, username string) (account.User, error) {
	return scanUser(s.c().row(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
}

// CountUsers counts all accounts.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.c().row(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, mapErr(err)
}

// ListUsers lists accounts by username.
func (s *Store) ListUsers(ctx context.Context) ([]account.User, error) {
	rows, err := s.c().query(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []account.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, mapErr(rows.Err())
}

// UpdateUser saves a user's profile fields and flags (not the password).
func (s *Store) UpdateUser(ctx context.Context, u account.User) error {
	res, err := s.c().exec(ctx, `UPDATE users SET username = $2, email = $3, full_name = $4, auth = $5, is_admin = $6,
		is_course_creator = $7, language = $8, timezone = $9, institution = $10, country = $11, updated_at = $12
		WHERE id = $1`,
		u.ID, u.Username, u.Email, u.FullName, string(u.Auth), u.IsAdmin, u.IsCourseCreator, u.Language, u.Timezone,
		u.Institution, u.Country, micros(s.now()))
	if err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	return affectedOne(res)
}

// SetPasswordHash replaces a user's password hash. A password the user chose ends a pending must-change.
func (s *Store) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	res, err := s.c().exec(ctx, `UPDATE users SET password_hash = $2, must_change_password = FALSE, updated_at = $3 WHERE id = $1`, id, hash, micros(s.now()))
	if err != nil {
		return err
	}
	return affectedOne(res)
}

// TouchLogin records the time of a successful login.
func (s *Store) TouchLogin(ctx context.Context, id int64, at time.Time) error {
	_, err := s.c().exec(ctx, `UPDATE users SET last_login_at = $2 WHERE id = $1`, id, micros(at))
	return err
}

func affectedOne(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// RecordLoginFailure notes a failed sign-in for username from client.
func (s *Store) RecordLoginFailure(ctx context.Context, username, client string, at time.Time) error {
	_, err := s.c().exec(ctx, `INSERT INTO login_failures (username, client, at) VALUES ($1, $2, $3)`, username, client, micros(at))
	return err
}

// LoginFailures counts the failed sign-ins for username from any client since accountSince, and since clientSince
// those for username from client and those from client for any username, each with the time of the latest.
func (s *Store) LoginFailures(ctx context.Context, username, client string, accountSince, clientSince time.Time) (account.FailureCounts, error) {
	var fc account.FailureCounts
	var accountLast, pairLast, clientLast sql.NullInt64
	err := s.c().row(ctx, `SELECT
		COALESCE(SUM(CASE WHEN username = $1 AND at >= $3 THEN 1 ELSE 0 END), 0), MAX(CASE WHEN username = $1 AND at >= $3 THEN at END),
		COALESCE(SUM(CASE WHEN username = $1 AND client = $2 AND at >= $4 THEN 1 ELSE 0 END), 0),
		MAX(CASE WHEN username = $1 AND client = $2 AND at >= $4 THEN at END),
		COALESCE(SUM(CASE WHEN client = $2 AND at >= $4 THEN 1 ELSE 0 END), 0), MAX(CASE WHEN client = $2 AND at >= $4 THEN at END)
		FROM login_failures WHERE at >= $5 AND (username = $1 OR client = $2)`,
		username, client, micros(accountSince), micros(clientSince), micros(minTime(accountSince, clientSince))).
		Scan(&fc.Account.N, &accountLast, &fc.Pair.N, &pairLast, &fc.Client.N, &clientLast)
	fc.Account.Last, fc.Pair.Last, fc.Client.Last = fromNullMicros(accountLast), fromNullMicros(pairLast), fromNullMicros(clientLast)
	return fc, mapErr(err)
}

// ClearLoginFailures forgets username's failures from client (after a successful sign-in from it) and everyone's
// older than before.
func (s *Store) ClearLoginFailures(ctx context.Context, username, client string, before time.Time) error {
	_, err := s.c().exec(ctx, `DELETE FROM login_failures WHERE (username = $1 AND client = $2) OR at < $3`, username, client, micros(before))
	return err
}

// UnlockLogin forgets every failed sign-in for username, from every client, and returns how many there were.
func (s *Store) UnlockLogin(ctx context.Context, username string) (int, error) {
	res, err := s.c().exec(ctx, `DELETE FROM login_failures WHERE username = $1`, username)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
