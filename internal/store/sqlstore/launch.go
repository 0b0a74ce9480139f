package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/lti"
)

// SaveState stores a login state.
func (s *Store) SaveState(ctx context.Context, st launch.State) error {
	_, err := s.c().exec(ctx, `INSERT INTO lti_states (state, nonce, registration_id, target_link_uri, storage_target,
		log_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		st.State, st.Nonce, st.RegistrationID, st.TargetLinkURI, st.StorageTarget, st.LogID, micros(st.CreatedAt), micros(st.ExpiresAt))
	return err
}

const stateColumns = `state, nonce, registration_id, target_link_uri, storage_target, log_id, created_at, expires_at, used_at`

func scanState(sc interface{ Scan(...any) error }) (launch.State, error) {
	var st launch.State
	var created, expires int64
	var used sql.NullInt64
	if err := sc.Scan(&st.State, &st.Nonce, &st.RegistrationID, &st.TargetLinkURI, &st.StorageTarget, &st.LogID, &created, &expires, &used); err != nil {
		return st, mapErr(err)
	}
	st.CreatedAt, st.ExpiresAt, st.UsedAt = fromMicros(created), fromMicros(expires), fromNullMicros(used)
	return st, nil
}

// ClaimState marks a state used in one statement, so that two posts of the same state cannot both win.
func (s *Store) ClaimState(ctx context.Context, state string, now time.Time) (launch.State, error) {
	st, err := scanState(s.c().row(ctx, `UPDATE lti_states SET used_at = $2 WHERE state = $1 AND used_at IS NULL
		RETURNING `+stateColumns, state, micros(now)))
	if !errors.Is(err, store.ErrNotFound) {
		return st, err
	}
	st, err = scanState(s.c().row(ctx, `SELECT `+stateColumns+` FROM lti_states WHERE state = $1`, state))
	if err != nil {
		return st, err
	}
	return st, store.ErrConflict
}

// LoadState reads a login state without claiming it.
func (s *Store) LoadState(ctx context.Context, state string) (launch.State, error) {
	return scanState(s.c().row(ctx, `SELECT `+stateColumns+` FROM lti_states WHERE state = $1`, state))
}

// UseNonce records a nonce; a second use is refused with lti.ErrNonceReused.
func (s *Store) UseNonce(ctx context.Context, issuer, nonce string, until time.Time) error {
	res, err := s.c().exec(ctx, `INSERT INTO lti_nonces (issuer, nonce, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (issuer, nonce) DO NOTHING`, issuer, nonce, micros(until))
	if err != nil {
		return fmt.Errorf("record nonce: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return lti.ErrNonceReused
	}
	return nil
}

// DeleteExpiredLaunchState removes login states and nonces that can no longer be used.
func (s *Store) DeleteExpiredLaunchState(ctx context.Context, now time.Time) error {
	// Keep states a while after expiry so that a late post says "expired" rather than "unknown".
	if _, err := s.c().exec(ctx, `DELETE FROM lti_states WHERE expires_at < $1`, micros(now.Add(-time.Hour))); err != nil {
		return err
	}
	_, err := s.c().exec(ctx, `DELETE FROM lti_nonces WHERE expires_at < $1`, micros(now))
	return err
}

// RecordLaunch appends to the launch log, or updates row e.ID (a launch finishing its login's row; a row gone
// meanwhile is appended again).
func (s *Store) RecordLaunch(ctx context.Context, e *launch.LogEntry) error {
	reg := sql.NullInt64{Int64: e.RegistrationID, Valid: e.RegistrationID != 0}
	detail := ""
	if e.Detail != nil {
		// Detail's own encoder gives compact JSON; json.Marshal would only validate and compact it again.
		b, err := e.Detail.MarshalJSON()
		if err != nil {
			return fmt.Errorf("encode launch detail: %w", err)
		}
		detail = string(b)
	}
	if e.ID != 0 {
		res, err := s.c().exec(ctx, `UPDATE launch_log SET at = $2, registration_id = $3, issuer = $4, client_id = $5,
			deployment_id = $6, message_type = $7, subject = $8, stage = $9, outcome = $10, code = $11, reason = $12,
			path = $13, request_id = $14, platform_name = $15, detail = CASE WHEN $16 = '' THEN detail ELSE $16 END, warning = $17 WHERE id = $1`,
			e.ID, micros(e.At), reg, e.Issuer, e.ClientID, e.DeploymentID, e.MessageType, e.Subject, e.Stage, e.Outcome,
			e.Code, e.Reason, e.Path, e.RequestID, e.PlatformName, detail, e.Warning)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
	}
	id, err := s.c().insertID(ctx, `INSERT INTO launch_log (at, registration_id, issuer, client_id, deployment_id,
		message_type, subject, stage, outcome, code, reason, path, request_id, platform_name, detail, warning)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
		micros(e.At), reg, e.Issuer, e.ClientID, e.DeploymentID, e.MessageType, e.Subject, e.Stage, e.Outcome,
		e.Code, e.Reason, e.Path, e.RequestID, e.PlatformName, detail, e.Warning)
	if err != nil {
		return err
	}
	e.ID = id
	return nil
}

// LaunchLog lists launch log entries, newest first.
func (s *Store) LaunchLog(ctx context.Context, f launch.LogFilter) ([]launch.LogEntry, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	q := `SELECT id, at, registration_id, issuer, client_id, deployment_id, message_type, subject, stage, outcome,
		code, reason, path, request_id, platform_name, warning FROM launch_log WHERE ($1 = 0 OR registration_id = $1) AND ($2 = '' OR outcome = $2)
		AND ($4 = 0 OR id < $4) ORDER BY id DESC LIMIT $3`
	rows, err := s.c().query(ctx, q, f.RegistrationID, f.Outcome, limit, f.BeforeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []launch.LogEntry
	for rows.Next() {
		var e launch.LogEntry
		var at int64
		var reg sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &reg, &e.Issuer, &e.ClientID, &e.DeploymentID, &e.MessageType, &e.Subject,
			&e.Stage, &e.Outcome, &e.Code, &e.Reason, &e.Path, &e.RequestID, &e.PlatformName, &e.Warning); err != nil {
			return nil, mapErr(err)
		}
		e.At, e.RegistrationID = fromMicros(at), reg.Int64
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// LaunchLogEntry returns one launch log row with its detail. It first empties the detail of every row recorded
// before keepAfter: the inspector is where details are read, so that is where they expire (no job needed, and
// no cost on the launch path).
func (s *Store) LaunchLogEntry(ctx context.Context, id int64, keepAfter time.Time) (launch.LogEntry, error) {
	if _, err := s.c().exec(ctx, `UPDATE launch_log SET detail = '' WHERE at < $1 AND detail <> ''`, micros(keepAfter)); err != nil {
		return launch.LogEntry{}, fmt.Errorf("expire launch details: %w", err)
	}
	var e launch.LogEntry
	var at int64
	var reg sql.NullInt64
	var detail string
	err := s.c().row(ctx, `SELECT id, at, registration_id, issuer, client_id, deployment_id, message_type, subject, stage, outcome,
		code, reason, path, request_id, platform_name, detail, warning FROM launch_log WHERE id = $1`, id).
		Scan(&e.ID, &at, &reg, &e.Issuer, &e.ClientID, &e.DeploymentID, &e.MessageType, &e.Subject,
			&e.Stage, &e.Outcome, &e.Code, &e.Reason, &e.Path, &e.RequestID, &e.PlatformName, &detail, &e.Warning)
	if err != nil {
		return launch.LogEntry{}, mapErr(err)
	}
	e.At, e.RegistrationID = fromMicros(at), reg.Int64
	if detail != "" {
		e.Detail = &launch.Detail{}
		if err := json.Unmarshal([]byte(detail), e.Detail); err != nil {
			return launch.LogEntry{}, fmt.Errorf("decode launch detail %d: %w", id, err)
		}
	}
	return e, nil
}
