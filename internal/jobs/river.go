package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// queue is what the service uses of a River client, whatever its driver's transaction type.
type queue interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

// openQueue opens River's own connection pool on the database and builds the client. It does no I/O: the pools
// connect on first use, and migrate (River's tables) runs when the service starts.
func openQueue(engine, dsn string, cfg *river.Config) (q queue, migrate func(context.Context) error, closeFn func(), err error) {
	switch engine {
	case "postgres":
		pc, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("job queue: %w", err)
		}
		pc.MaxConns = 10
		// With MinConns 0 the pool opens no connection here, so the context is not used for I/O.
		pool, err := pgxpool.NewWithConfig(context.Background(), pc)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("open the job queue's pool: %w", err)
		}
		drv := riverpgxv5.New(pool)
		c, err := river.NewClient(drv, cfg)
		if err != nil {
			pool.Close()
			return nil, nil, nil, fmt.Errorf("build the job queue: %w", err)
		}
		return c, func(ctx context.Context) error { return migrateRiver(ctx, drv) }, pool.Close, nil
	case "sqlite":
		db, err := sql.Open("sqlite", sqliteDSN(dsn))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("open the job queue's connection: %w", err)
		}
		// River's SQLite driver wants a pool of exactly one connection (its documentation): SQLite has one writer,
		// and River's own transactions must not wait on each other inside the process.
		db.SetMaxOpenConns(1)
		drv := riversqlite.New(db)
		c, err := river.NewClient(drv, cfg)
		if err != nil {
			db.Close()
			return nil, nil, nil, fmt.Errorf("build the job queue: %w", err)
		}
		return c, func(ctx context.Context) error { return migrateRiver(ctx, drv) }, func() { db.Close() }, nil
	}
	return nil, nil, nil, fmt.Errorf("job queue: unknown database engine %q", engine)
}

func migrateRiver[TTx any](ctx context.Context, drv riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("prepare the job queue's migrations: %w", err)
	}
	// Several instances may start at once; River's migrations run in a transaction each, and a second instance
	// finds them applied. Retry once when two collide.
	for attempt := 0; ; attempt++ {
		_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err == nil || attempt == 2 {
			break
		}
		time.Sleep(time.Duration(200*(attempt+1)) * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("migrate the job queue's tables: %w", err)
	}
	return nil
}

// sqliteDSN is the store's DSN form of a SQLite path (same pragmas as the store, so both pools agree).
func sqliteDSN(dsn string) string {
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate"
}
