// Package sqlstore is ltipub's one SQL implementation of the domain stores, for SQLite (the embedded default) and
// PostgreSQL (for several instances). Queries are written once in the PostgreSQL dialect; the SQLite flavour only
// rewrites placeholders. Migrations for both engines are embedded and applied with goose.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ltipub/ltipub/internal/secrets"
	"github.com/ltipub/ltipub/internal/store"
)

//go:embed migrations
var migrations embed.FS

// Engine names the database engine behind a Store.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Store is the SQL store. It is safe for concurrent use.
type Store struct {
	// db is the pool for reads. On SQLite w is a second pool of one connection that every write goes through
	// (see OpenWith); on PostgreSQL both are the same pool.
	db *sql.DB
	w  *sql.DB
	// ckpt is the SQLite checkpointer's connection (see checkpoints); stopCheckpoints ends it.
	ckpt            *sql.DB
	stopCheckpoints func()
	engine          Engine
	dsn             string
	now             func() time.Time
	cache           *queryCache
	// tx is set on a Store bound to a transaction (see InTx): every query of it runs in that transaction.
	tx *conn
	// secrets seals the secret columns (secrets.go); nil stores them as they come.
	secrets *secrets.Box
}

// queryCache is shared by a Store and the transaction-bound Stores made from it.
type queryCache struct {
	rebound   sync.Map // PostgreSQL query text → SQLite query text
	stmts     sync.Map // stmtKey → *sql.Stmt
	stmtCount atomic.Int64
	preparing sync.Map // stmtKey → true while a goroutine prepares it (see conn.stmt)
	// background counts those goroutines, so that Close waits for them: one still preparing would open a
	// connection (and SQLite's -wal and -shm files) on a store its owner has closed and whose folder may be going.
	bgMu       sync.Mutex
	background sync.WaitGroup
	closed     bool
	// gen counts this process's writes to the tables launches cache (see Generation); writes sorts query texts.
	gen atomic.Int64
	// written counts this process's writes, so that the checkpointer (see checkpoints) knows when to run.
	written atomic.Int64
	writes  sync.Map // query text → queryKind
}

// stmtKey names a prepared statement: its SQLite text, and whether it is prepared on the writer or the readers.
type stmtKey struct {
	query  string
	writer bool
}

// queryKind is what a query text does, worked out once per text.
type queryKind struct {
	write  bool // INSERT, UPDATE, DELETE or REPLACE: a request's memo is dropped
	cached bool // a write to a table launches cache: the generation moves
}

// cachedTables are the tables whose rows launches keep in memory for a few seconds (registrations in
// internal/launch, published resources with their course and activity, and LTI 2.0 tool proxies in internal/publish).
var cachedTables = map[string]bool{"registrations": true, "deployments": true, "published_resources": true,
	"courses": true, "activities": true, "lti2_tool_proxies": true}

// kind tells what query does.
func (c *queryCache) kind(query string) queryKind {
	if v, ok := c.writes.Load(query); ok {
		return v.(queryKind)
	}
	f := strings.Fields(strings.ToLower(query))
	var k queryKind
	table := ""
	switch {
	case len(f) >= 3 && (f[0] == "insert" || f[0] == "delete" || f[0] == "replace") && (f[1] == "into" || f[1] == "from"):
		k.write, table = true, f[2]
	case len(f) >= 2 && f[0] == "update":
		k.write, table = true, f[1]
	case len(f) >= 1 && f[0] == "with": // a CTE may write; assume it does
		k.write = true
	}
	if i := strings.IndexByte(table, '('); i >= 0 {
		table = table[:i]
	}
	k.cached = cachedTables[table]
	c.writes.Store(query, k)
	return k
}

// Generation changes whenever this process writes a registration, deployment, published resource, course or
// activity (and again when the transaction that wrote it commits). Caches of those rows compare it, so that a
// change made here applies at once; changes by other processes wait for the caches' TTL.
func (s *Store) Generation() int64 { return s.cache.gen.Load() }

// noteWrite notes what query does before it runs, and tells whether it writes.
func (c conn) noteWrite(ctx context.Context, query string) bool {
	k := c.s.cache.kind(query)
	if k.write {
		store.MemoFrom(ctx).Clear()
		c.s.cache.written.Add(1)
	}
	if k.cached {
		c.s.cache.gen.Add(1)
		if c.touched != nil {
			c.touched.Store(true)
		}
	}
	return k.write
}

// memoized reads through the request's memo (store.Memo): a row read once in a request is not read again until
// the request writes something.
func memoized[T any](ctx context.Context, key string, load func() (T, error)) (T, error) {
	m := store.MemoFrom(ctx)
	if v, ok := m.Get(key); ok {
		return v.(T), nil
	}
	v, err := load()
	if err == nil {
		m.Put(key, v)
	}
	return v, err
}

// IsPostgresDSN reports whether dsn names a PostgreSQL database rather than a SQLite file.
func IsPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Options tune OpenWith.
type Options struct {
	// WrapConnector, when set, wraps the driver's connector: tests count the statements a request issues.
	WrapConnector func(driver.Connector) driver.Connector
}

// Open opens the database named by dsn: a postgres:// URL, or else a SQLite file path (its folder is created).
// It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*Store, error) { return OpenWith(ctx, dsn, Options{}) }

// dsnConnector opens connections of a driver that has no connector of its own.
type dsnConnector struct {
	dsn string
	drv driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, o Options) (*Store, error) {
	s := &Store{dsn: dsn, now: time.Now, cache: &queryCache{}}
	openWrapped := func(drv driver.Driver, dsn string, wrap bool) (*sql.DB, error) {
		var c driver.Connector = dsnConnector{dsn, drv}
		if dc, ok := drv.(driver.DriverContext); ok {
			var err error
			if c, err = dc.OpenConnector(dsn); err != nil {
				return nil, err
			}
		}
		if wrap && o.WrapConnector != nil {
			c = o.WrapConnector(c)
		}
		return sql.OpenDB(c), nil
	}
	open := func(drv driver.Driver, dsn string) (*sql.DB, error) { return openWrapped(drv, dsn, true) }
	if IsPostgresDSN(dsn) {
		db, err := open(stdlib.GetDefaultDriver(), dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
		db.SetConnMaxIdleTime(5 * time.Minute)
		s.db, s.w, s.engine = db, db, Postgres
	} else {
		path := strings.TrimPrefix(dsn, "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path != ":memory:" && path != "" {
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				return nil, fmt.Errorf("create database folder: %w", err)
			}
		}
		// WAL lets readers run beside the one writer. SQLite takes one writer at a time whatever the pool holds,
		// so writes go through a pool of one connection (w) and queue there, in Go, rather than in SQLite's busy
		// handler, which sleeps and retries; that connection's page cache also stays warm, where each commit by
		// another connection empties it. _txlock=immediate takes the write lock at BEGIN, so that a transaction
		// never fails halfway with "database is locked" when it upgrades (River and the CLI write beside it).
		// Reads run on a pool of their own, whose connections refuse to write (query_only): a write sent there
		// by mistake fails at once instead of waiting on the lock.
		w, err := open(&sqlite.Driver{}, sqliteDSN(path))
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		db, err := open(&sqlite.Driver{}, sqliteReaderDSN(path))
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		// Four readers for two to a few cores: each connection keeps its own page cache (emptied by every commit
		// anyway) and its own copy of every prepared statement; eight measured 2–3 MB more at peak and no faster.
		db.SetMaxOpenConns(readers)
		db.SetMaxIdleConns(readers)
		s.db, s.w, s.engine = db, w, SQLite
		// The writer opens the file first: it sets WAL mode, which a query_only connection cannot.
		if err := w.PingContext(ctx); err != nil {
			s.close()
			return nil, fmt.Errorf("connect to %s database: %w", s.engine, err)
		}
		// The checkpointer's connection is not wrapped: its statements are the store's housekeeping, issued on a
		// timer, not by any request (a statement count of a launch must not catch one by chance).
		ckpt, err := openWrapped(&sqlite.Driver{}, sqliteCheckpointDSN(path), false)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		ckpt.SetMaxOpenConns(1)
		s.ckpt = ckpt
		s.stopCheckpoints = s.checkpoints(ckpt, checkpointEvery)
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.close()
		return nil, fmt.Errorf("connect to %s database: %w", s.engine, err)
	}
	return s, nil
}

// close closes the pools.
func (s *Store) close() error {
	if s.stopCheckpoints != nil {
		s.stopCheckpoints()
	}
	err := s.db.Close()
	if s.w != s.db {
		err = errors.Join(err, s.w.Close())
	}
	if s.ckpt != nil {
		err = errors.Join(err, s.ckpt.Close())
	}
	return err
}

// readers is the size of SQLite's pool of read-only connections.
const readers = 4

// checkpointEvery is how often the checkpointer looks for writes to copy from the WAL into the database file.
const checkpointEvery = 100 * time.Millisecond

// checkpoints copies the WAL into the database file from a connection of its own (db), every interval after
// writes, until the returned stop is called. SQLite does it itself on the connection whose commit makes the
// WAL pass 1000 pages, inside that commit's statement: on the one writer connection that stalled every write
// queued behind it for the checkpoint's fsync. The writer has automatic checkpoints off (wal_autocheckpoint(0)),
// and a PASSIVE checkpoint here waits for no reader and no writer. A busy or failed checkpoint is tried again at
// the next tick; SQLite checkpoints once more when the last connection closes.
func (s *Store) checkpoints(db *sql.DB, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		var seen int64
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if n := s.cache.written.Load(); n != seen {
				seen = n
				_, _ = db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate&_pragma=wal_autocheckpoint(0)"
}

// sqliteCheckpointDSN opens the checkpointer's connection (see checkpoints).
func sqliteCheckpointDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
}

// sqliteReaderDSN opens the read-only connections beside the writer (see OpenWith).
func sqliteReaderDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=query_only(1)"
}

// Engine reports which database engine the store runs on.
func (s *Store) Engine() Engine { return s.engine }

// DB gives the pool that writes (on SQLite, the one writer connection), for the parts that bring their own SQL.
func (s *Store) DB() *sql.DB { return s.w }

// ReadDB gives the pool for reads: on SQLite, connections beside the writer that refuse to write; on PostgreSQL
// the same pool as DB.
func (s *Store) ReadDB() *sql.DB { return s.db }

// DSN is the data source the store was opened with.
func (s *Store) DSN() string { return s.dsn }

// SetClock replaces the store's clock; tests use it.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// inBackground runs fn in a goroutine that Close waits for, unless the store is closed already.
func (q *queryCache) inBackground(fn func()) {
	q.bgMu.Lock()
	defer q.bgMu.Unlock()
	if q.closed {
		return
	}
	q.background.Add(1)
	go func() {
		defer q.background.Done()
		fn()
	}()
}

// Close waits for the statements being prepared in the background, then closes the cached statements and the
// pool.
func (s *Store) Close() error {
	s.cache.bgMu.Lock()
	s.cache.closed = true
	s.cache.bgMu.Unlock()
	s.cache.background.Wait()
	s.cache.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	return s.close()
}

// Ping checks that the database answers, to reads and to writes; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return err
	}
	return s.w.PingContext(ctx)
}

// Migrate applies every embedded migration that the database lacks.
func (s *Store) Migrate(ctx context.Context, log *slog.Logger) error {
	dialect := goose.DialectSQLite3
	if s.engine == Postgres {
		dialect = goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations, "migrations/"+string(s.engine))
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, s.w, sub)
	if err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s database: %w", s.engine, err)
	}
	for _, r := range results {
		if log != nil {
			log.InfoContext(ctx, "migration applied", slog.String("migration", r.Source.Path), slog.Duration("took", r.Duration))
		}
	}
	return nil
}

// q turns a query written for PostgreSQL into the store's dialect. SQLite understands numbered parameters as ?N,
// so $N becomes ?N and the arguments keep their order and reuse.
func (s *Store) q(query string) string {
	if s.engine == Postgres {
		return query
	}
	if v, ok := s.cache.rebound.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(query))
	inString := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inString = !inString
		}
		if c == '$' && !inString && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9' {
			b.WriteByte('?')
			continue
		}
		b.WriteByte(c)
	}
	out := b.String()
	s.cache.rebound.Store(query, out)
	return out
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs queries in the store's dialect, on the pools or inside a transaction.
type conn struct {
	s  *Store
	tx *sql.Tx // set inside a transaction
	// touched is set inside a transaction that wrote a cached table: its commit bumps the generation again.
	touched *atomic.Bool
}

// on gives where query runs: the transaction, the writer for a write, the readers for a read.
func (c conn) on(write bool) querier {
	switch {
	case c.tx != nil:
		return c.tx
	case write:
		return c.s.w
	default:
		return c.s.db
	}
}

// stmt gives a prepared statement for query on SQLite, where parsing a statement costs more than running most
// of ours (pgx caches PostgreSQL statements by itself). Inside a transaction the statement is bound to it.
func (c conn) stmt(ctx context.Context, query string, write bool) *sql.Stmt {
	if c.s.engine != SQLite {
		return nil
	}
	// A transaction runs on the writer, so its statements are the writer's.
	key := stmtKey{query: query, writer: write || c.tx != nil}
	var st *sql.Stmt
	if v, ok := c.s.cache.stmts.Load(key); ok {
		st = v.(*sql.Stmt)
	} else {
		if c.s.cache.stmtCount.Load() >= maxCachedStatements {
			return nil
		}
		if c.tx != nil {
			// Preparing on the writer needs its one connection, which the transaction holds. This use runs
			// unprepared; the statement is prepared for the next one once the connection is free, by a goroutine
			// that holds none while it waits.
			if _, busy := c.s.cache.preparing.LoadOrStore(key, true); !busy {
				c.s.cache.inBackground(func() {
					defer c.s.cache.preparing.Delete(key)
					c.s.prepare(context.WithoutCancel(ctx), key)
				})
			}
			return nil
		}
		if st = c.s.prepare(ctx, key); st == nil {
			return nil // run it unprepared; the error will show there
		}
	}
	if c.tx != nil {
		return c.tx.StmtContext(ctx, st)
	}
	return st
}

// prepare prepares a statement on its pool and caches it, or gives the statement another caller cached first; nil
// if it does not prepare.
func (s *Store) prepare(ctx context.Context, key stmtKey) *sql.Stmt {
	db := s.db
	if key.writer {
		db = s.w
	}
	prepared, err := db.PrepareContext(ctx, key.query)
	if err != nil {
		return nil
	}
	if v, loaded := s.cache.stmts.LoadOrStore(key, prepared); loaded {
		prepared.Close()
		return v.(*sql.Stmt)
	}
	s.cache.stmtCount.Add(1)
	return prepared
}

// maxCachedStatements bounds the statement cache (queries with a variable number of placeholders make new texts).
const maxCachedStatements = 512

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	write := c.noteWrite(ctx, query)
	q := c.s.q(query)
	if st := c.stmt(ctx, q, write); st != nil {
		res, err := st.ExecContext(ctx, args...)
		return res, mapErr(err)
	}
	res, err := c.on(write).ExecContext(ctx, q, args...)
	return res, mapErr(err)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	write := c.noteWrite(ctx, query)
	q := c.s.q(query)
	if st := c.stmt(ctx, q, write); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return rows, mapErr(err)
	}
	rows, err := c.on(write).QueryContext(ctx, q, args...)
	return rows, mapErr(err)
}

func (c conn) row(ctx context.Context, query string, args ...any) *sql.Row {
	write := c.noteWrite(ctx, query)
	q := c.s.q(query)
	if st := c.stmt(ctx, q, write); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.on(write).QueryRowContext(ctx, q, args...)
}

// insertID runs an INSERT … RETURNING id and gives the new id.
func (c conn) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	if err := c.row(ctx, query, args...).Scan(&id); err != nil {
		return 0, mapErr(err)
	}
	return id, nil
}

func (s *Store) c() conn {
	if s.tx != nil {
		return *s.tx
	}
	return conn{s: s}
}

// inTx runs fn in a transaction and commits when fn returns nil. On a Store already bound to a transaction, fn
// joins it (a second BEGIN would wait on SQLite's write lock, which the first holds).
func (s *Store) inTx(ctx context.Context, fn func(c conn) error) error {
	if s.tx != nil {
		return fn(*s.tx)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", mapErr(err))
	}
	touched := &atomic.Bool{}
	if err := fn(conn{s: s, tx: tx, touched: touched}); err != nil {
		_ = tx.Rollback()
		return err
	}
	err = tx.Commit()
	if touched.Load() {
		s.cache.gen.Add(1)
	}
	if err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

// Tx runs fn with a Store bound to one transaction: everything fn does through it commits together, or, when fn
// returns an error, not at all.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	return s.inTx(ctx, func(c conn) error {
		bound := &Store{db: s.db, w: s.w, engine: s.engine, dsn: s.dsn, now: s.now, cache: s.cache, secrets: s.secrets}
		c.s = bound
		bound.tx = &c
		return fn(bound)
	})
}

// mapErr turns driver errors into the store's sentinels so that callers never see driver types.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("%w: %s", store.ErrAlreadyExists, pgErr.ConstraintName)
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %s", store.ErrAlreadyExists, sqErr.Error())
		}
	}
	return err
}

// Times are kept as Unix microseconds (see the first migration).

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// placeholders gives "$from, $from+1, …" for n values.
func placeholders(from, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "$" + strconv.Itoa(from+i)
	}
	return strings.Join(parts, ", ")
}
