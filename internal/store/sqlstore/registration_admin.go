package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/internal/tool"
)

// The registration token of dynamic registration is kept as a hash. A token is usable while
// reg_token_expires_at is set and in the future; using it clears the expiry but keeps the hash, so that a second
// use can be told apart ("already used") from a token that never existed.

// SetRegistrationToken replaces the registration's dynamic registration token.
func (s *Store) SetRegistrationToken(ctx context.Context, id int64, hash string, expiresAt time.Time) error {
	res, err := s.c().exec(ctx, `UPDATE registrations SET reg_token_hash = $2, reg_token_expires_at = $3 WHERE id = $1`,
		id, hash, micros(expiresAt))
	if err != nil {
		return fmt.Errorf("set registration token of %d: %w", id, err)
	}
	return affectedOne(res)
}

// RegistrationByTokenHash finds the registration whose token has this hash, with the token's state.
func (s *Store) RegistrationByTokenHash(ctx context.Context, hash string) (tool.Registration, tool.RegistrationToken, error) {
	var tok tool.RegistrationToken
	if hash == "" {
		return tool.Registration{}, tok, store.ErrNotFound
	}
	var id int64
	var expires sql.NullInt64
	err := s.c().row(ctx, `SELECT id, reg_token_expires_at FROM registrations WHERE reg_token_hash = $1`, hash).Scan(&id, &expires)
	if err != nil {
		return tool.Registration{}, tok, mapErr(err)
	}
	tok.Used, tok.ExpiresAt = !expires.Valid, fromNullMicros(expires)
	r, err := s.Registration(ctx, id)
	return r, tok, err
}

// ClaimRegistrationToken marks the token used in one statement, so that two requests with the same token cannot
// both proceed: the loser gets store.ErrConflict.
func (s *Store) ClaimRegistrationToken(ctx context.Context, id int64, hash string, now time.Time) error {
	res, err := s.c().exec(ctx, `UPDATE registrations SET reg_token_expires_at = NULL
		WHERE id = $1 AND reg_token_hash = $2 AND reg_token_expires_at IS NOT NULL AND reg_token_expires_at >= $3`,
		id, hash, micros(now))
	if err != nil {
		return fmt.Errorf("claim registration token of %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrConflict
	}
	return nil
}

// RestoreRegistrationToken makes a claimed token usable again after a failed registration, unless a new token
// replaced it meanwhile.
func (s *Store) RestoreRegistrationToken(ctx context.Context, id int64, hash string, expiresAt time.Time) error {
	_, err := s.c().exec(ctx, `UPDATE registrations SET reg_token_expires_at = $3
		WHERE id = $1 AND reg_token_hash = $2 AND reg_token_expires_at IS NULL`, id, hash, micros(expiresAt))
	return err
}

// SaveRegistration saves the registration's own fields and adds deployments, in one transaction: a failure
// leaves the registration as it was.
func (s *Store) SaveRegistration(ctx context.Context, r tool.Registration, add []tool.Deployment) error {
	return s.inTx(ctx, func(c conn) error {
		now := s.now()
		res, err := c.exec(ctx, `UPDATE registrations SET name = $2, issuer = $3, client_id = $4, jwks_url = $5,
			token_url = $6, auth_url = $7, token_audience = $8, platform_name = $9, product_family = $10, updated_at = $11
			WHERE id = $1`,
			r.ID, r.Name, r.Issuer, r.ClientID, r.JWKSURL, r.TokenURL, r.AuthURL, r.TokenAudience, r.PlatformName,
			r.ProductFamily, micros(now))
		if err != nil {
			return fmt.Errorf("update registration %d: %w", r.ID, err)
		}
		if err := affectedOne(res); err != nil {
			return err
		}
		for _, d := range add {
			_, err := c.exec(ctx, `INSERT INTO deployments (registration_id, deployment_id, name, created_at)
				VALUES ($1, $2, $3, $4) ON CONFLICT (registration_id, deployment_id) DO NOTHING`,
				r.ID, d.DeploymentID, d.Name, micros(now))
			if err != nil {
				return fmt.Errorf("add deployment %q: %w", d.DeploymentID, err)
			}
		}
		return nil
	})
}

// LaunchCounts counts the launch log lines of a registration, and among them the accepted launches.
func (s *Store) LaunchCounts(ctx context.Context, registrationID int64) (lines, accepted int, err error) {
	err = s.c().row(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN stage = 'launch' AND outcome = 'accepted' THEN 1 ELSE 0 END), 0)
		FROM launch_log WHERE registration_id = $1`, registrationID).Scan(&lines, &accepted)
	if err != nil {
		return 0, 0, mapErr(err)
	}
	return lines, accepted, nil
}

// DeleteRegistrationKeepLog deletes a registration (its deployments and login states go with it, by cascade) and
// keeps its launch log lines for the record, unlinked from it.
func (s *Store) DeleteRegistrationKeepLog(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, `UPDATE launch_log SET registration_id = NULL WHERE registration_id = $1`, id); err != nil {
			return fmt.Errorf("unlink launch log of registration %d: %w", id, err)
		}
		res, err := c.exec(ctx, `DELETE FROM registrations WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete registration %d: %w", id, err)
		}
		return affectedOne(res)
	})
}
