package web

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
)

// countingStore counts the session writes that reach the store.
type countingStore struct {
	*memstore.MemStore
	commits atomic.Int64
}

func (c *countingStore) Commit(token string, b []byte, expiry time.Time) error {
	c.commits.Add(1)
	return c.MemStore.Commit(token, b, expiry)
}

// TestSessionWrittenOnlyWhenChangedOrStale: a page view that changes nothing does not write the session (scs's
// IdleTimeout did, on every request), a stale mark is refreshed, and a session unused for longer than
// SessionIdleTimeout is over.
func TestSessionWrittenOnlyWhenChangedOrStale(t *testing.T) {
	t.Parallel()
	store := &countingStore{MemStore: memstore.New()}
	sm := scs.New()
	sm.Store = store
	sm.Lifetime = 12 * time.Hour
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := &Server{sessions: sm, now: func() time.Time { return clock }}
	h := sm.LoadAndSave(s.loadUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			sm.Put(r.Context(), "k", "v")
		}
		_, _ = w.Write([]byte(sm.GetString(r.Context(), "k")))
	})))
	var cookie *http.Cookie
	get := func(path string) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		for _, c := range rec.Result().Cookies() {
			if c.Name == sm.Cookie.Name {
				cookie = c
			}
		}
		return rec.Body.String()
	}
	step := func(name, path string, advance time.Duration, wantBody string, wantCommits int64) {
		t.Helper()
		clock = clock.Add(advance)
		before := store.commits.Load()
		if got := get(path); got != wantBody {
			t.Fatalf("%s: body %q, want %q", name, got, wantBody)
		}
		if got := store.commits.Load() - before; got != wantCommits {
			t.Fatalf("%s: %d session writes, want %d", name, got, wantCommits)
		}
	}
	step("anonymous page view", "/read", 0, "", 0)
	if cookie != nil {
		t.Fatal("an anonymous page view set a session cookie")
	}
	step("session created", "/set", 0, "v", 1)
	step("page view right after", "/read", time.Second, "v", 0)
	step("page view within the touch interval", "/read", sessionTouchEvery-2*time.Second, "v", 0)
	step("page view after the touch interval", "/read", 2*time.Second, "v", 1)
	step("page view after a long pause, still within the idle timeout", "/read", SessionIdleTimeout-time.Minute, "v", 1)
	step("page view after the idle timeout", "/read", SessionIdleTimeout+time.Second, "", 0)
}
