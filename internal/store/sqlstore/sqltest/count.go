package sqltest

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"sync"
)

// Counter wraps a database driver and counts what reaches the database: every statement executed or queried
// (prepared or not), and every BEGIN and COMMIT/ROLLBACK, which PostgreSQL's statement log lists too. Pass
// Counter.Wrap as sqlstore.Options.WrapConnector.
type Counter struct {
	mu    sync.Mutex
	on    bool
	stmts []string
}

// Start clears the record and starts counting.
func (c *Counter) Start() {
	c.mu.Lock()
	c.on, c.stmts = true, nil
	c.mu.Unlock()
}

// Stop stops counting and returns the statements seen since Start.
func (c *Counter) Stop() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on = false
	return c.stmts
}

// Snapshot returns the statements seen since Start, counting on.
func (c *Counter) Snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.stmts...)
}

func (c *Counter) add(q string) {
	c.mu.Lock()
	if c.on {
		c.stmts = append(c.stmts, strings.Join(strings.Fields(q), " "))
	}
	c.mu.Unlock()
}

// Wrap wraps a connector.
func (c *Counter) Wrap(inner driver.Connector) driver.Connector { return &countConnector{inner, c} }

type countConnector struct {
	inner driver.Connector
	c     *Counter
}

func (k *countConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := k.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countConn{conn, k.c}, nil
}

func (k *countConnector) Driver() driver.Driver { return k.inner.Driver() }

// countConn forwards every optional interface the drivers here implement, so that database/sql behaves as it
// does without the wrapper.
type countConn struct {
	driver.Conn
	c *Counter
}

func (w *countConn) Prepare(q string) (driver.Stmt, error) {
	return w.PrepareContext(context.Background(), q)
}

func (w *countConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	var st driver.Stmt
	var err error
	if p, ok := w.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, q)
	} else {
		st, err = w.Conn.Prepare(q)
	}
	if err != nil {
		return nil, err
	}
	return &countStmt{st, q, w.c}, nil
}

func (w *countConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	w.c.add("BEGIN")
	b, ok := w.Conn.(driver.ConnBeginTx)
	if !ok { // both drivers here implement it
		return nil, errors.New("sqltest: the driver's connections lack BeginTx")
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countTx{tx, w.c}, nil
}

func (w *countConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := w.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := e.ExecContext(ctx, q, args)
	if err != driver.ErrSkip {
		w.c.add(q)
	}
	return res, err
}

func (w *countConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	e, ok := w.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := e.QueryContext(ctx, q, args)
	if err != driver.ErrSkip {
		w.c.add(q)
	}
	return rows, err
}

func (w *countConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := w.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (w *countConn) ResetSession(ctx context.Context) error {
	if r, ok := w.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (w *countConn) IsValid() bool {
	if v, ok := w.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (w *countConn) Ping(ctx context.Context) error {
	if p, ok := w.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

type countTx struct {
	driver.Tx
	c *Counter
}

func (t *countTx) Commit() error   { t.c.add("COMMIT"); return t.Tx.Commit() }
func (t *countTx) Rollback() error { t.c.add("ROLLBACK"); return t.Tx.Rollback() }

type countStmt struct {
	driver.Stmt
	q string
	c *Counter
}

func (s *countStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.add(s.q)
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	return nil, errors.New("sqltest: the driver's statements lack ExecContext")
}

func (s *countStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.c.add(s.q)
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	return nil, errors.New("sqltest: the driver's statements lack QueryContext")
}

func (s *countStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
