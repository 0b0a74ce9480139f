package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/logging"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
	"github.com/ltipub/ltipub/lti"
)

// plainSecrets are the secrets a test puts into a database, as plaintext.
type plainSecrets struct {
	pem, legacy, token string
	kid                string
	resourceID         int64
}

const tokenKey = "test-token-cache-key"

// seedSecrets starts an instance on dsn (with keyFile), gives it a tool key, a published resource with an LTI 1.1
// secret and a cached service token, and then, behind its back, writes all three into the database as
// plaintext, as a database from before encryption holds them.
func seedSecrets(t *testing.T, engine sqlstore.Engine, dsn, keyFile string) plainSecrets {
	t.Helper()
	ctx := context.Background()
	inst := apptest.Start(t, apptest.Options{DSN: dsn, Engine: engine, SecretsKeyFile: keyFile})
	ks, err := inst.App.Keys.Keys(ctx)
	if err != nil || len(ks) == 0 {
		t.Fatalf("keys: %v", err)
	}
	pem, err := lti.EncodePrivateKeyPEM(ks[0].Signing.Private)
	if err != nil {
		t.Fatal(err)
	}
	c := inst.ExampleCourse(t, "")
	r := inst.Publish(t, publish.NewInput(c.Course.ID))
	ps := plainSecrets{pem: string(pem), legacy: "legacy-secret-" + strings.Repeat("s", 24), token: "service-token-" + strings.Repeat("t", 24),
		kid: ks[0].Signing.KID, resourceID: r.ID}
	// Through the store, sealed: these must never reach the disk in plaintext either.
	if err := inst.Store.PutServiceToken(ctx, 0, tokenKey+"-sealed", lti.ServiceToken{AccessToken: ps.token + "-sealed", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	inst.Close()

	raw, err := sqlstore.Open(ctx, inst.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE tool_keys SET private_pem = $1 WHERE kid = $2`, []any{ps.pem, ps.kid}},
		{`UPDATE published_resources SET legacy_secret = $1 WHERE id = $2`, []any{ps.legacy, ps.resourceID}},
		{`INSERT INTO service_tokens (cache_key, access_token, scopes, expires_at, created_at) VALUES ($1, $2, '', $3, $3)`,
			[]any{tokenKey, ps.token, time.Now().Add(time.Hour).UnixMicro()}},
	} {
		sql := q.sql
		if engine == sqlstore.SQLite {
			sql = strings.NewReplacer("$1", "?1", "$2", "?2", "$3", "?3").Replace(sql)
		}
		if _, err := raw.DB().ExecContext(ctx, sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return ps
}

// assertNoPlaintext fails when the database shows any of the secrets: every byte of the SQLite files, or every
// row of the secret columns on PostgreSQL.
func assertNoPlaintext(t *testing.T, engine sqlstore.Engine, dsn string, ps plainSecrets) {
	t.Helper()
	needles := []string{ps.pem[40:80], "PRIVATE KEY", ps.legacy, ps.token}
	var hay []byte
	if engine == sqlstore.SQLite {
		files, _ := filepath.Glob(dsn + "*")
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			hay = append(hay, b...)
		}
		if len(hay) == 0 {
			t.Fatal("no database files to search")
		}
	} else {
		raw, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		for _, q := range []string{`SELECT private_pem FROM tool_keys`, `SELECT legacy_secret FROM published_resources`, `SELECT access_token FROM service_tokens`} {
			rows, err := raw.DB().Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var v string
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				if v != "" && !strings.HasPrefix(v, "enc:v1:") {
					t.Errorf("%s: a row is not encrypted: %.40q", q, v)
				}
				hay = append(append(hay, v...), '\n')
			}
			rows.Close()
		}
	}
	for _, n := range needles {
		if bytes.Contains(hay, []byte(n)) {
			t.Errorf("the %s database shows %.30q in plaintext", engine, n)
		}
	}
}

// assertSecretsRead checks that a store opened with keyFile reads the seeded secrets back.
func assertSecretsRead(t *testing.T, dsn, keyFile string, ps plainSecrets) {
	t.Helper()
	ctx := context.Background()
	st, err := app.OpenStoreWith(ctx, dsn, keyFile, logging.Discard())
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st.Close()
	ks, err := st.ToolKeys(ctx)
	if err != nil || len(ks) == 0 {
		t.Fatalf("tool keys: %v", err)
	}
	if pem, _ := lti.EncodePrivateKeyPEM(ks[0].Signing.Private); string(pem) != ps.pem {
		t.Error("the tool key does not read back")
	}
	if r, err := st.ResourceByID(ctx, ps.resourceID); err != nil || r.LegacySecret != ps.legacy {
		t.Errorf("the LTI 1.1 secret does not read back: %q, %v", r.LegacySecret, err)
	}
	if tok, ok, err := st.ServiceToken(ctx, tokenKey); err != nil || !ok || tok.AccessToken != ps.token {
		t.Errorf("the service token does not read back: %v %v", ok, err)
	}
}

// TestSecretsAtRest: after start-up the database holds no private key PEM, LTI 1.1 secret or service token in
// plaintext, old plaintext rows included; rotation re-encrypts them; a wrong key stops start-up and says so.
func TestSecretsAtRest(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := sqltest.DSN(t, engine)
			keyFile := ""
			if engine == sqlstore.Postgres {
				keyFile = filepath.Join(t.TempDir(), "secrets.key")
				if err := app.NewSecretsKeyFile(keyFile, &bytes.Buffer{}); err != nil {
					t.Fatal(err)
				}
			}
			ps := seedSecrets(t, engine, dsn, keyFile)

			// Start-up encrypts the plaintext rows.
			st, err := app.OpenStoreWith(ctx, dsn, keyFile, logging.Discard())
			if err != nil {
				t.Fatalf("start with plaintext secrets: %v", err)
			}
			st.Close()
			assertNoPlaintext(t, engine, dsn, ps)
			assertSecretsRead(t, dsn, keyFile, ps)

			// A wrong key stops start-up, saying so.
			wrong := filepath.Join(t.TempDir(), "wrong.key")
			_ = app.NewSecretsKeyFile(wrong, &bytes.Buffer{})
			if _, err := app.OpenStoreWith(ctx, dsn, wrong, logging.Discard()); err == nil || !strings.Contains(err.Error(), "wrong secrets key") {
				t.Fatalf("start with a wrong key: %v", err)
			}

			// Rotation re-encrypts: the old key no longer opens the database, the new one (in the same file) does.
			path, _, _ := app.SecretsKeyPath(dsn, keyFile)
			oldKey, _ := os.ReadFile(path)
			var out bytes.Buffer
			if err := app.RotateSecretsKey(ctx, app.RotateSecretsKeyOptions{DSN: dsn, KeyFile: keyFile}, &out); err != nil {
				t.Fatalf("rotate: %v", err)
			}
			t.Log(out.String())
			newKey, _ := os.ReadFile(path)
			if bytes.Equal(oldKey, newKey) || !strings.Contains(out.String(), "re-encrypted 4 secrets") {
				t.Fatalf("rotation did not replace the key or re-encrypt everything: %s", out.String())
			}
			olds, _ := filepath.Glob(path + ".old-*")
			if len(olds) != 1 {
				t.Fatalf("the old key was not kept beside the new: %v", olds)
			}
			if _, err := app.OpenStoreWith(ctx, dsn, olds[0], logging.Discard()); err == nil || !strings.Contains(err.Error(), "wrong secrets key") {
				t.Fatalf("start with the key from before rotation: %v", err)
			}
			assertNoPlaintext(t, engine, dsn, ps)
			assertSecretsRead(t, dsn, keyFile, ps)
		})
	}
}

// TestSecretsKeyRequired: PostgreSQL without a key file, and a SQLite database whose key file went missing, do not
// start, and the message says what to do.
func TestSecretsKeyRequired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, err := app.OpenStoreWith(ctx, sqltest.DSN(t, sqlstore.Postgres), "", logging.Discard())
	if err == nil || !strings.Contains(err.Error(), "--secrets-key-file") || !strings.Contains(err.Error(), "secrets new-key") {
		t.Fatalf("PostgreSQL without a key file: %v", err)
	}
	dsn := sqltest.DSN(t, sqlstore.SQLite)
	st, err := app.OpenStoreWith(ctx, dsn, "", logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := os.Stat(filepath.Join(filepath.Dir(dsn), app.SecretsKeyFileName)); err != nil {
		t.Fatalf("no key made beside the SQLite file: %v", err)
	}
	os.Remove(filepath.Join(filepath.Dir(dsn), app.SecretsKeyFileName))
	if _, err := app.OpenStoreWith(ctx, dsn, "", logging.Discard()); err == nil || !strings.Contains(err.Error(), "restore the file") {
		t.Fatalf("SQLite whose key went missing: %v", err)
	}
	if _, err := app.OpenStoreWith(ctx, dsn, filepath.Join(t.TempDir(), "nope.key"), logging.Discard()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("a key file that does not exist: %v", err)
	}
}
