package sqlstore

import (
	"context"
	"fmt"

	"github.com/ltipub/ltipub/internal/tool"
)

const registrationColumns = `id, name, issuer, client_id, jwks_url, token_url, auth_url, token_audience,
	platform_name, product_family, created_at, updated_at`

func scanRegistration(sc interface{ Scan(...any) error }) (tool.Registration, error) {
	var r tool.Registration
	var created, updated int64
	err := sc.Scan(&r.ID, &r.Name, &r.Issuer, &r.ClientID, &r.JWKSURL, &r.TokenURL, &r.AuthURL, &r.TokenAudience,
		&r.PlatformName, &r.ProductFamily, &created, &updated)
	if err != nil {
		return tool.Registration{}, mapErr(err)
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return r, nil
}

// CreateRegistration inserts r and sets its ID.
func (s *Store) CreateRegistration(ctx context.Context, r *tool.Registration) error {
	now := s.now()
	id, err := s.c().insertID(ctx, `INSERT INTO registrations (name, issuer, client_id, jwks_url, token_url, auth_url,
		token_audience, platform_name, product_family, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`,
		r.Name, r.Issuer, r.ClientID, r.JWKSURL, r.TokenURL, r.AuthURL, r.TokenAudience, r.PlatformName, r.ProductFamily, micros(now))
	if err != nil {
		return fmt.Errorf("create registration %q: %w", r.Name, err)
	}
	r.ID, r.CreatedAt, r.UpdatedAt = id, now, now
	return nil
}

// Registration loads one registration with its deployments.
func (s *Store) Registration(ctx context.Context, id int64) (tool.Registration, error) {
	r, err := scanRegistration(s.c().row(ctx, `SELECT `+registrationColumns+` FROM registrations WHERE id = $1`, id))
	if err != nil {
		return r, err
	}
	list := []tool.Registration{r}
	if err := s.attachDeployments(ctx, list); err != nil {
		return r, err
	}
	return list[0], nil
}

// RegistrationsByIssuer loads every registration of one issuer, with deployments.
func (s *Store) RegistrationsByIssuer(ctx context.Context, issuer string) ([]tool.Registration, error) {
	return s.listRegistrations(ctx, `SELECT `+registrationColumns+` FROM registrations WHERE issuer = $1 ORDER BY id`, issuer)
}

// Registrations loads every registration, with deployments.
func (s *Store) Registrations(ctx context.Context) ([]tool.Registration, error) {
	return s.listRegistrations(ctx, `SELECT `+registrationColumns+` FROM registrations ORDER BY name, id`)
}

func (s *Store) listRegistrations(ctx context.Context, query string, args ...any) ([]tool.Registration, error) {
	rows, err := s.c().query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []tool.Registration
	for rows.Next() {
		r, err := scanRegistration(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return out, s.attachDeployments(ctx, out)
}

func (s *Store) attachDeployments(ctx context.Context, regs []tool.Registration) error {
	if len(regs) == 0 {
		return nil
	}
	ids := make([]any, len(regs))
	index := map[int64]int{}
	for i, r := range regs {
		ids[i] = r.ID
		index[r.ID] = i
	}
	rows, err := s.c().query(ctx, `SELECT id, registration_id, deployment_id, name, created_at FROM deployments
		WHERE registration_id IN (`+placeholders(1, len(ids))+`) ORDER BY id`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d tool.Deployment
		var created int64
		if err := rows.Scan(&d.ID, &d.RegistrationID, &d.DeploymentID, &d.Name, &created); err != nil {
			return mapErr(err)
		}
		d.CreatedAt = fromMicros(created)
		i := index[d.RegistrationID]
		regs[i].Deployments = append(regs[i].Deployments, d)
	}
	return mapErr(rows.Err())
}

// UpdateRegistration saves the registration's own fields (not its deployments).
func (s *Store) UpdateRegistration(ctx context.Context, r tool.Registration) error {
	res, err := s.c().exec(ctx, `UPDATE registrations SET name = $2, issuer = $3, client_id = $4, jwks_url = $5,
		token_url = $6, auth_url = $7, token_audience = $8, platform_name = $9, product_family = $10, updated_at = $11
		WHERE id = $1`,
		r.ID, r.Name, r.Issuer, r.ClientID, r.JWKSURL, r.TokenURL, r.AuthURL, r.TokenAudience, r.PlatformName,
		r.ProductFamily, micros(s.now()))
	if err != nil {
		return fmt.Errorf("update registration %d: %w", r.ID, err)
	}
	return affectedOne(res)
}

// DeleteRegistration removes a registration and, by cascade, its deployments and pending login states.
func (s *Store) DeleteRegistration(ctx context.Context, id int64) error {
	res, err := s.c().exec(ctx, `DELETE FROM registrations WHERE id = $1`, id)
	if err != nil {
		return err
	}
	return affectedOne(res)
}

// AddDeployment adds a deployment ID to a registration.
func (s *Store) AddDeployment(ctx context.Context, d *tool.Deployment) error {
	now := s.now()
	id, err := s.c().insertID(ctx, `INSERT INTO deployments (registration_id, deployment_id, name, created_at)
		VALUES ($1, $2, $3, $4) RETURNING id`, d.RegistrationID, d.DeploymentID, d.Name, micros(now))
	if err != nil {
		return fmt.Errorf("add deployment %q: %w", d.DeploymentID, err)
	}
	d.ID, d.CreatedAt = id, now
	return nil
}

// RemoveDeployment removes one deployment ID of a registration.
func (s *Store) RemoveDeployment(ctx context.Context, registrationID int64, deploymentID string) error {
	res, err := s.c().exec(ctx, `DELETE FROM deployments WHERE registration_id = $1 AND deployment_id = $2`, registrationID, deploymentID)
	if err != nil {
		return err
	}
	return affectedOne(res)
}
