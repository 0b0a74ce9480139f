package sqlstore

import (
	"context"
	"time"
)

// Settings returns every stored site setting.
func (s *Store) Settings(ctx context.Context) (map[string]string, error) {
	rows, err := s.c().query(ctx, `SELECT name, value FROM settings`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, mapErr(err)
		}
		out[k] = v
	}
	return out, mapErr(rows.Err())
}

// PutSettings saves several settings in one transaction.
func (s *Store) PutSettings(ctx context.Context, values map[string]string, at time.Time) error {
	return s.inTx(ctx, func(c conn) error {
		for k, v := range values {
			_, err := c.exec(ctx, `INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)
				ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, k, v, micros(at))
			if err != nil {
				return err
			}
		}
		return nil
	})
}
