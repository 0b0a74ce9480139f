// Package sqltest opens fresh, migrated stores on both engines for tests: SQLite in a temporary folder, and
// PostgreSQL in a new database cloned from a migrated template, so every test starts empty and runs in parallel.
//
// PostgreSQL comes from LTIPUB_TEST_POSTGRES_DSN, or postgres://postgres@127.0.0.1:5432/postgres. When it cannot
// be reached the PostgreSQL half is skipped with a loud message, except under CI (CI=true), where it fails.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/testsuite"
)

// EnvPostgres names the variable that points the tests at a PostgreSQL server.
const EnvPostgres = "LTIPUB_TEST_POSTGRES_DSN"

const defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Engines lists the engines every store test runs on.
var Engines = []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres}

// Each runs fn as a subtest on a fresh store of each engine.
func Each(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Helper()
	for _, e := range Engines {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}

// Open gives a fresh, migrated store on engine e, closed (and for PostgreSQL dropped) when t ends.
func Open(t testing.TB, e sqlstore.Engine) *sqlstore.Store {
	t.Helper()
	dsn := DSN(t, e)
	s, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s store: %v", e, err)
	}
	t.Cleanup(func() { s.Close() })
	if e == sqlstore.SQLite {
		if err := s.Migrate(context.Background(), nil); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	return s
}

// DSN gives a data source name for a fresh, migrated database on engine e, without opening a store; use it to
// start a whole server on that database, or two servers on the same one.
func DSN(t testing.TB, e sqlstore.Engine) string {
	t.Helper()
	if e == sqlstore.SQLite {
		return filepath.Join(t.TempDir(), "ltipub.db")
	}
	return freshPostgres(t)
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// Reachable reports the PostgreSQL server the tests use (LTIPUB_TEST_POSTGRES_DSN or the default) and whether it
// answers, for the test run's summary (internal/testsuite).
func Reachable(ctx context.Context) (dsn string, err error) {
	db, err := sql.Open("pgx", adminDSN())
	if err != nil {
		return adminDSN(), err
	}
	defer db.Close()
	return adminDSN(), db.PingContext(ctx)
}

func adminDSN() string {
	if v := os.Getenv(EnvPostgres); v != "" {
		return v
	}
	return defaultPostgres
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL is required under CI but not reachable at %s: %v", adminDSN(), err)
	}
	testsuite.NoCache(t) // the next run must look for PostgreSQL again
	t.Skipf("SKIPPING PostgreSQL half: %s not reachable (%v); set %s to run it", adminDSN(), err, EnvPostgres)
}

// freshPostgres creates a database from a migrated template and drops it when t ends.
func freshPostgres(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("pgx", adminDSN())
	if err != nil {
		unavailable(t, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		unavailable(t, err)
	}
	templateOnce.Do(func() { templateName, templateErr = buildTemplate(ctx, admin) })
	if templateErr != nil {
		admin.Close()
		t.Fatalf("prepare PostgreSQL template: %v", templateErr)
	}
	name := "ltipub_t_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+templateName); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		_, _ = admin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	})
	return withDatabase(adminDSN(), name)
}

func buildTemplate(ctx context.Context, admin *sql.DB) (string, error) {
	name := "ltipub_tpl_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return "", err
	}
	s, err := sqlstore.Open(ctx, withDatabase(adminDSN(), name))
	if err != nil {
		return "", err
	}
	if err := s.Migrate(ctx, nil); err != nil {
		s.Close()
		return "", err
	}
	s.Close()
	dropOldTemplates(ctx, admin, name)
	return name, nil
}

// dropOldTemplates removes templates and test databases that a killed test run left behind (older than an hour).
func dropOldTemplates(ctx context.Context, admin *sql.DB, keep string) {
	rows, err := admin.QueryContext(ctx, `SELECT d.datname FROM pg_database d
		WHERE (d.datname LIKE 'ltipub_tpl_%' OR d.datname LIKE 'ltipub_t_%') AND d.datname <> $1
		AND (pg_stat_file('base/' || d.oid || '/PG_VERSION')).modification < now() - interval '1 hour'`, keep)
	if err != nil {
		return
	}
	var names []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			names = append(names, n)
		}
	}
	rows.Close()
	for _, n := range names {
		_, _ = admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+n+` WITH (FORCE)`)
	}
}

func withDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(fmt.Sprintf("bad %s: %v", EnvPostgres, err))
	}
	u.Path = "/" + name
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
