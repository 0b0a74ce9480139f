package sqlstore_test

import (
	"context"
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
