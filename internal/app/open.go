package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
)

// settingBaseURL is the site setting where `serve` records the public base URL it runs under, so that CLI commands
// print the server's URLs without being told --base-url again.
const settingBaseURL = "server_base_url"

// CreateStore is what serve and migrate do: check dsn, create the database when it is missing (for SQLite, its
// folder only when it is the default one, so that a mistyped folder is not created), and migrate it.
func CreateStore(ctx context.Context, dsn, keyFile string, log *slog.Logger) (*sqlstore.Store, error) {
	if err := config.CheckDB(dsn); err != nil {
		return nil, err
	}
	if path, ok := sqlitePath(dsn); ok {
		dir := filepath.Dir(path)
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) && filepath.Clean(path) != filepath.Clean(config.DefaultDB) {
			return nil, fmt.Errorf("--db %s: the folder %s does not exist; create it (mkdir -p %s) or correct the path", dsn, dir, dir)
		}
	}
	st, err := OpenStoreWith(ctx, dsn, keyFile, log)
	return st, pgHint(err, dsn)
}

// OpenExisting is what every command but serve and migrate does: open a database that an earlier serve or migrate
// created, and refuse a missing one instead of creating an empty one. Migrations still run, so that a command
// from a newer ltipub works on a database the server has not migrated yet.
func OpenExisting(ctx context.Context, dsn, keyFile string, log *slog.Logger) (*sqlstore.Store, error) {
	if err := config.CheckDB(dsn); err != nil {
		return nil, err
	}
	if path, ok := sqlitePath(dsn); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, missingDB(dsn, path)
		}
		// Opening a SQLite database writes to it (WAL mode), so look at the file's header first.
		if !isSQLiteFile(path) {
			return nil, notOurs(dsn)
		}
	}
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, pgHint(err, dsn)
	}
	// A database ltipub made has goose's version table; anything else (an empty file, another program's
	// database) is refused before migrations write into it.
	var n int
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'"
	if st.Engine() == sqlstore.Postgres {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'goose_db_version'"
	}
	if err := st.DB().QueryRowContext(ctx, q).Scan(&n); err != nil {
		st.Close()
		return nil, fmt.Errorf("read %s: %w", dsn, err)
	}
	if n == 0 {
		st.Close()
		return nil, notOurs(dsn)
	}
	if err := st.Migrate(ctx, log); err != nil {
		st.Close()
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := openSecrets(ctx, st, keyFile, log); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func notOurs(dsn string) error {
	return fmt.Errorf("%s is not an ltipub database (it has no ltipub tables): check --db / LTIPUB_DB, "+
		"or run `ltipub migrate --db %s` to set up a new one there", redactDSN(dsn), redactDSN(dsn))
}

// isSQLiteFile reports whether the file at path starts with SQLite's header.
func isSQLiteFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 16)
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == "SQLite format 3\x00"
}

// missingDB says that there is no database at path and suggests the SQLite files that are nearby.
func missingDB(dsn, path string) error {
	var near []string
	if dir := filepath.Dir(path); dir != "" {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !e.IsDir() && (strings.HasSuffix(e.Name(), ".db") || strings.HasSuffix(e.Name(), ".sqlite")) {
				near = append(near, filepath.Join(dir, e.Name()))
			}
		}
	}
	if _, err := os.Stat(config.DefaultDB); err == nil && filepath.Clean(path) != filepath.Clean(config.DefaultDB) {
		near = append(near, config.DefaultDB)
	}
	sort.Strings(near)
	hint := ""
	if len(near) > 0 {
		hint = " did you mean --db " + strings.Join(near, " or --db ") + "?"
	}
	return fmt.Errorf("no ltipub database at %s:%s run `ltipub serve` or `ltipub migrate` first (with --db %s) to create one", dsn, hint, dsn)
}

// sqlitePath is the file a SQLite DSN names; ok is false for PostgreSQL and in-memory databases.
func sqlitePath(dsn string) (string, bool) {
	if sqlstore.IsPostgresDSN(dsn) {
		return "", false
	}
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" || path == ":memory:" {
		return "", false
	}
	return path, true
}

func redactDSN(dsn string) string {
	if err := config.CheckDB(dsn); err != nil {
		return dsn
	}
	if i, j := strings.Index(dsn, "://"), strings.LastIndexByte(dsn, '@'); i >= 0 && j > i {
		if k := strings.IndexByte(dsn[i+3:j], ':'); k >= 0 {
			return dsn[:i+3+k+1] + "xxxxx" + dsn[j:]
		}
	}
	return dsn
}

// RecordBaseURL stores the public base URL the server runs under (serve calls it at start).
func RecordBaseURL(ctx context.Context, st *sqlstore.Store, baseURL string) error {
	if err := st.PutSettings(ctx, map[string]string{settingBaseURL: strings.TrimRight(baseURL, "/")}, time.Now()); err != nil {
		return fmt.Errorf("record the base URL: %w", err)
	}
	return nil
}

// RecordedBaseURL is the base URL the last `serve` on this database ran under, or "" when none has.
func RecordedBaseURL(ctx context.Context, st *sqlstore.Store) (string, error) {
	v, err := st.Settings(ctx)
	if err != nil {
		return "", err
	}
	return v[settingBaseURL], nil
}

// pgHint explains the PostgreSQL refusals an operator fixes with a command: no such database.
func pgHint(err error, dsn string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "3D000" { // invalid_catalog_name
		name := ""
		if u, perr := url.Parse(dsn); perr == nil {
			name = strings.TrimPrefix(u.Path, "/")
		}
		return fmt.Errorf("PostgreSQL has no database %q (%s): create it (createdb %s), then run `ltipub migrate --db …`", name, redactDSN(dsn), name)
	}
	return err
}
