package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ltipub/ltipub/internal/store"
)

// Sessions is the web session store (scs's Store, CtxStore and IterableStore) on SQLite: the table and SQL of scs's
// sqlite3store, run through the Store so that a session load is a prepared statement on the reader pool and a
// session save one on the writer (sqlite3store parses each statement again and sends reads and writes to the same
// pool). PostgreSQL keeps scs's postgresstore, whose statements pgx caches.
type Sessions struct {
	s    *Store
	log  *slog.Logger
	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

// NewSessions gives the session store of a SQLite Store; every cleanup interval (none when zero) it deletes the
// expired sessions until StopCleanup.
func NewSessions(s *Store, cleanup time.Duration, log *slog.Logger) (*Sessions, error) {
	if s.engine != SQLite {
		return nil, fmt.Errorf("sqlstore.Sessions is for SQLite; this store is %s", s.engine)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ss := &Sessions{s: s, log: log, stop: make(chan struct{})}
	if cleanup > 0 {
		ss.done.Add(1)
		go ss.cleanup(cleanup)
	}
	return ss, nil
}

// sessionExpiry is how sqlite3store writes an expiry, for julianday().
const sessionExpiry = "2006-01-02T15:04:05.999"

// FindCtx gives a session's data, if it exists and has not expired.
func (ss *Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := ss.s.c().row(ctx, `SELECT data FROM sessions WHERE token = $1 AND julianday('now') < expiry`, token).Scan(&b)
	if err = mapErr(err); errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// CommitCtx saves a session's data and expiry.
func (ss *Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := ss.s.c().exec(ctx, `REPLACE INTO sessions (token, data, expiry) VALUES ($1, $2, julianday($3))`,
		token, b, expiry.UTC().Format(sessionExpiry))
	return err
}

// DeleteCtx removes a session.
func (ss *Sessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := ss.s.c().exec(ctx, `DELETE FROM sessions WHERE token = $1`, token)
	return err
}

// AllCtx gives every session that has not expired.
func (ss *Sessions) AllCtx(ctx context.Context) (map[string][]byte, error) {
	rows, err := ss.s.c().query(ctx, `SELECT token, data FROM sessions WHERE julianday('now') < expiry`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	all := map[string][]byte{}
	for rows.Next() {
		var token string
		var data []byte
		if err := rows.Scan(&token, &data); err != nil {
			return nil, err
		}
		all[token] = data
	}
	return all, rows.Err()
}

// Find is FindCtx without a context (scs.Store); scs calls FindCtx.
func (ss *Sessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context (scs.Store); scs calls CommitCtx.
func (ss *Sessions) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a context (scs.Store); scs calls DeleteCtx.
func (ss *Sessions) Delete(token string) error { return ss.DeleteCtx(context.Background(), token) }

// All is AllCtx without a context (scs.IterableStore).
func (ss *Sessions) All() (map[string][]byte, error) { return ss.AllCtx(context.Background()) }

// StopCleanup ends the cleanup and waits for it.
func (ss *Sessions) StopCleanup() {
	ss.once.Do(func() { close(ss.stop) })
	ss.done.Wait()
}

func (ss *Sessions) cleanup(every time.Duration) {
	defer ss.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_, err := ss.s.c().exec(ctx, `DELETE FROM sessions WHERE expiry < julianday('now')`)
			cancel()
			if err != nil {
				ss.log.Warn("expired sessions not deleted", slog.Any("error", err))
			}
		case <-ss.stop:
			return
		}
	}
}
