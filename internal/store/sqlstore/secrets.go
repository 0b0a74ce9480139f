package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/ltipub/ltipub/internal/secrets"
)

// Secrets at rest (see internal/secrets): the columns below hold sealed values once a key is set (SetSecrets).
// Reads accept plaintext too, for rows written before encryption, which SealSecrets converts at start-up.

const (
	purposeToolKey      = "tool_keys.private_pem"
	purposeLegacySecret = "published_resources.legacy_secret"
	purposeServiceToken = "service_tokens.access_token"
	// purposeToolProxySecret seals the shared secrets of LTI 2.0 tool proxies (lti2.go).
	purposeToolProxySecret = "lti2_tool_proxies.secret"
	purposeCheck           = "secrets_check.value"
	// checkPlaintext is what the check row seals: opening it proves the key is the database's.
	checkPlaintext = "ltipub secrets key check"
)

// secretColumn is a column that holds a secret, with the column that names its row.
type secretColumn struct{ table, key, column, purpose string }

var secretColumns = []secretColumn{
	{"tool_keys", "kid", "private_pem", purposeToolKey},
	{"published_resources", "id", "legacy_secret", purposeLegacySecret},
	{"service_tokens", "cache_key", "access_token", purposeServiceToken},
	{"lti2_tool_proxies", "id", "secret", purposeToolProxySecret},
}

// ErrNoSecretsKey means the database holds sealed secrets but the store was given no key to open them.
var ErrNoSecretsKey = errors.New("the database holds encrypted secrets, but no secrets key was given")

// SetSecrets makes the store seal the secret columns with b, and open them with it. Call it before any other use.
func (s *Store) SetSecrets(b *secrets.Box) { s.secrets = b }

func (s *Store) seal(purpose, v string) (string, error) {
	if s.secrets == nil {
		return v, nil
	}
	return s.secrets.Seal(purpose, v)
}

func (s *Store) open(purpose, v string) (string, error) {
	if s.secrets == nil {
		if secrets.IsSealed(v) {
			return "", ErrNoSecretsKey
		}
		return v, nil
	}
	return s.secrets.Open(purpose, v)
}

// CheckSecretsKey verifies that the store's key is the one this database's secrets were sealed with, and records
// it on first use. A different key gives an error wrapping secrets.ErrWrongKey.
func (s *Store) CheckSecretsKey(ctx context.Context) error {
	if s.secrets == nil {
		return errors.New("check secrets key: no key set")
	}
	sealed, err := s.secrets.Seal(purposeCheck, checkPlaintext)
	if err != nil {
		return err
	}
	// Two instances starting at once both try; the first row stays and the second instance checks against it.
	if _, err := s.c().exec(ctx, `INSERT INTO secrets_check (id, key_id, value) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`,
		s.secrets.ID(), sealed); err != nil {
		return fmt.Errorf("record secrets key check: %w", err)
	}
	var keyID, value string
	if err := s.c().row(ctx, `SELECT key_id, value FROM secrets_check WHERE id = 1`).Scan(&keyID, &value); err != nil {
		return fmt.Errorf("read secrets key check: %w", mapErr(err))
	}
	if pt, err := s.secrets.Open(purposeCheck, value); err != nil || pt != checkPlaintext {
		return fmt.Errorf("%w: this database's secrets were encrypted with key %s, and the key file holds key %s", secrets.ErrWrongKey, keyID, s.secrets.ID())
	}
	return nil
}

type secretRow struct{ key, value string }

func (c conn) secretRows(ctx context.Context, col secretColumn) ([]secretRow, error) {
	rows, err := c.query(ctx, `SELECT CAST(`+col.key+` AS TEXT), `+col.column+` FROM `+col.table+` WHERE `+col.column+` <> ''`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []secretRow
	for rows.Next() {
		var r secretRow
		if err := rows.Scan(&r.key, &r.value); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

func (c conn) putSecret(ctx context.Context, col secretColumn, key, value string) error {
	_, err := c.exec(ctx, `UPDATE `+col.table+` SET `+col.column+` = $1 WHERE CAST(`+col.key+` AS TEXT) = $2`, value, key)
	return err
}

// SealSecrets seals every secret still stored in plaintext (rows from before encryption) and checks that every
// sealed one opens with the store's key; it returns how many it sealed. It runs in one transaction.
func (s *Store) SealSecrets(ctx context.Context) (int, error) {
	if s.secrets == nil {
		return 0, errors.New("seal secrets: no key set")
	}
	n := 0
	err := s.inTx(ctx, func(c conn) error {
		for _, col := range secretColumns {
			rows, err := c.secretRows(ctx, col)
			if err != nil {
				return fmt.Errorf("read %s.%s: %w", col.table, col.column, err)
			}
			for _, r := range rows {
				if secrets.IsSealed(r.value) {
					if _, err := s.secrets.Open(col.purpose, r.value); err != nil {
						return fmt.Errorf("%s.%s of %s: %w", col.table, col.column, r.key, err)
					}
					continue
				}
				v, err := s.secrets.Seal(col.purpose, r.value)
				if err != nil {
					return err
				}
				if err := c.putSecret(ctx, col, r.key, v); err != nil {
					return fmt.Errorf("seal %s.%s of %s: %w", col.table, col.column, r.key, err)
				}
				n++
			}
		}
		return nil
	})
	if err == nil && n > 0 {
		err = s.scrub(ctx)
	}
	return n, err
}

// scrub makes SQLite forget the pages that held the plaintext: the updates left them in free pages and in the
// write-ahead log, where a copy of the files would still show them. VACUUM rewrites the file without free pages,
// and the truncating checkpoint empties the log. (PostgreSQL keeps dead row versions until its own vacuum;
// dumps, which read live rows only, never show them.)
func (s *Store) scrub(ctx context.Context) error {
	if s.engine != SQLite {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("vacuum after encrypting secrets: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpoint after encrypting secrets: %w", err)
	}
	return nil
}

// RekeySecrets opens every secret with the store's key and seals it again with next, the check row included, in
// one transaction; it returns how many secrets it re-encrypted. From then on the store uses next.
func (s *Store) RekeySecrets(ctx context.Context, next *secrets.Box) (int, error) {
	if s.secrets == nil || next == nil {
		return 0, errors.New("rekey secrets: the current and the next key are both needed")
	}
	if err := s.CheckSecretsKey(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := s.inTx(ctx, func(c conn) error {
		for _, col := range secretColumns {
			rows, err := c.secretRows(ctx, col)
			if err != nil {
				return fmt.Errorf("read %s.%s: %w", col.table, col.column, err)
			}
			for _, r := range rows {
				pt, err := s.secrets.Open(col.purpose, r.value)
				if err != nil {
					return fmt.Errorf("%s.%s of %s: %w", col.table, col.column, r.key, err)
				}
				v, err := next.Seal(col.purpose, pt)
				if err != nil {
					return err
				}
				if err := c.putSecret(ctx, col, r.key, v); err != nil {
					return fmt.Errorf("re-encrypt %s.%s of %s: %w", col.table, col.column, r.key, err)
				}
				n++
			}
		}
		check, err := next.Seal(purposeCheck, checkPlaintext)
		if err != nil {
			return err
		}
		_, err = c.exec(ctx, `UPDATE secrets_check SET key_id = $1, value = $2 WHERE id = 1`, next.ID(), check)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.secrets = next
	return n, s.scrub(ctx)
}

// HasSecretsCheck reports whether a secrets key was ever recorded for this database (its secrets are sealed).
func (s *Store) HasSecretsCheck(ctx context.Context) (bool, error) {
	var n int
	err := s.c().row(ctx, `SELECT COUNT(*) FROM secrets_check`).Scan(&n)
	return n > 0, mapErr(err)
}
