package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ltipub/ltipub/internal/tool"
)

// SaveRegistrationCheck records a registration check's results.
func (s *Store) SaveRegistrationCheck(ctx context.Context, c *tool.CheckReport) error {
	b, err := json.Marshal(c.Steps)
	if err != nil {
		return fmt.Errorf("encode check results: %w", err)
	}
	id, err := s.c().insertID(ctx, `INSERT INTO registration_checks (registration_id, checked_at, checked_by, passed, results)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, c.RegistrationID, micros(c.CheckedAt), c.CheckedBy, c.Passed(), string(b))
	if err != nil {
		return mapErr(err)
	}
	c.ID = id
	return nil
}

// LatestRegistrationCheck returns a registration's most recent check; store.ErrNotFound when it has none.
func (s *Store) LatestRegistrationCheck(ctx context.Context, registrationID int64) (tool.CheckReport, error) {
	var c tool.CheckReport
	var at int64
	var passed bool
	var results string
	err := s.c().row(ctx, `SELECT id, registration_id, checked_at, checked_by, passed, results FROM registration_checks
		WHERE registration_id = $1 ORDER BY checked_at DESC, id DESC LIMIT 1`, registrationID).
		Scan(&c.ID, &c.RegistrationID, &at, &c.CheckedBy, &passed, &results)
	if err != nil {
		return tool.CheckReport{}, mapErr(err)
	}
	c.CheckedAt = fromMicros(at)
	if err := json.Unmarshal([]byte(results), &c.Steps); err != nil {
		return tool.CheckReport{}, fmt.Errorf("decode check %d: %w", c.ID, err)
	}
	return c, nil
}
