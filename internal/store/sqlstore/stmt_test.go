package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
)

// TestTransactionNeedsNoSecondConnection: a transaction's first use of a statement must not wait for another
// connection of the pool to prepare it. With every connection in such a transaction (one connection here; a burst
// of first launches after a start with the full pool) the server stood still: ltipub serve hung in its first
// settings write with a pool of one.
func TestTransactionNeedsNoSecondConnection(t *testing.T) {
	t.Parallel()
	s := sqltest.Open(t, sqlstore.SQLite)
	s.DB().SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 3 { // a cold cache, then the statement prepared in the background, then cached
		at := time.Date(2026, 12, 1, 9, 0, i, 0, time.UTC)
		if err := s.PutSettings(ctx, map[string]string{"site_name": "budget"}, at); err != nil {
			t.Fatalf("settings write %d in a transaction on a pool of one connection: %v", i, err)
		}
	}
}

// TestWALCheckpointedWhileRunning: the one writer connection does not checkpoint (a checkpoint inside a commit
// stalled every write queued behind it), so the store does, from a connection of its own, while it runs: what
// is written reaches the database file without waiting for the store to close, and the WAL does not grow
// without end.
func TestWALCheckpointedWhileRunning(t *testing.T) {
	t.Parallel()
	dsn := sqltest.DSN(t, sqlstore.SQLite)
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	// Let the migrations' pages reach the file, then write far more than a page cache holds.
	deadline := time.Now().Add(30 * time.Second)
	before := size(dsn)
	for i := range 3000 {
		if err := s.UseNonce(ctx, "https://platform.example", fmt.Sprintf("nonce-%d-%s", i, strings.Repeat("x", 200)),
			time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for size(dsn) < before+512<<10 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file stayed at %d bytes (from %d) after 3000 writes; WAL %d bytes: nothing checkpointed",
				size(dsn), before, size(dsn+"-wal"))
		}
		time.Sleep(20 * time.Millisecond) // polling the file, not timing anything
	}
}
