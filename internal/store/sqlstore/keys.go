package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ltipub/ltipub/internal/keys"
	"github.com/ltipub/ltipub/internal/store"
	"github.com/ltipub/ltipub/lti"
)

// ToolKeys lists the active and previous tool keys, active first, newest first.
func (s *Store) ToolKeys(ctx context.Context) ([]keys.Key, error) {
	rows, err := s.c().query(ctx, `SELECT kid, private_pem, status, created_at, retire_at FROM tool_keys
		WHERE status IN ('active', 'previous') ORDER BY CASE status WHEN 'active' THEN 0 ELSE 1 END, created_at DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []keys.Key
	for rows.Next() {
		var k keys.Key
		var pem string
		var created int64
		var retire sql.NullInt64
		if err := rows.Scan(&k.Signing.KID, &pem, &k.Status, &created, &retire); err != nil {
			return nil, mapErr(err)
		}
		if pem, err = s.open(purposeToolKey, pem); err != nil {
			return nil, fmt.Errorf("decrypt tool key %s: %w", k.Signing.KID, err)
		}
		priv, err := lti.DecodePrivateKeyPEM([]byte(pem))
		if err != nil {
			return nil, fmt.Errorf("decode tool key %s: %w", k.Signing.KID, err)
		}
		k.Signing.Private, k.CreatedAt, k.RetireAt = priv, fromMicros(created), fromNullMicros(retire)
		out = append(out, k)
	}
	return out, mapErr(rows.Err())
}

func insertKey(ctx context.Context, c conn, k keys.Key) error {
	pem, err := lti.EncodePrivateKeyPEM(k.Signing.Private)
	if err != nil {
		return err
	}
	sealed, err := c.s.seal(purposeToolKey, string(pem))
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, `INSERT INTO tool_keys (kid, private_pem, status, created_at) VALUES ($1, $2, $3, $4)`,
		k.Signing.KID, sealed, keys.StatusActive, micros(k.CreatedAt))
	return err
}

// InsertActiveKey stores the first active key; the unique index on the active status makes a second one fail
// with store.ErrAlreadyExists, so two instances starting at once agree on one key.
func (s *Store) InsertActiveKey(ctx context.Context, k keys.Key) error {
	return insertKey(ctx, s.c(), k)
}

// RotateKey demotes the active key and inserts next, in one transaction.
func (s *Store) RotateKey(ctx context.Context, next keys.Key, retireAt time.Time) error {
	for attempt := 1; ; attempt++ {
		err := s.inTx(ctx, func(c conn) error {
			if _, err := c.exec(ctx, `UPDATE tool_keys SET status = 'previous', retire_at = $1 WHERE status = 'active'`, micros(retireAt)); err != nil {
				return err
			}
			return insertKey(ctx, c, next)
		})
		// Two instances rotating at once on PostgreSQL: the second's UPDATE waited for the first's row, then
		// found it no longer active, and could not see the key the first had just inserted, so its own insert
		// met the one-active index. The first rotation is committed now; running again retires its key in turn.
		if errors.Is(err, store.ErrAlreadyExists) && attempt < 3 {
			continue
		}
		return err
	}
}

// RetireKeys retires previous keys whose overlap has ended.
func (s *Store) RetireKeys(ctx context.Context, now time.Time) (int, error) {
	res, err := s.c().exec(ctx, `UPDATE tool_keys SET status = 'retired' WHERE status = 'previous' AND retire_at <= $1`, micros(now))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
