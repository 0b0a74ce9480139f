package web

import (
	"bytes"
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

func TestSessionCodec(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2026, 12, 1, 21, 0, 0, 123456789, time.UTC)
	values := map[string]any{sessionUserID: int64(42), sessionScope: "course:7", sessionEmbedded: true,
		sessionLaunched: false, "flash": "Settings saved. ✓", "n": 3, "empty": ""}
	check := func(name string, b []byte) {
		t.Helper()
		d, got, err := SessionCodec{}.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !d.Equal(deadline) || len(got) != len(values) {
			t.Fatalf("%s: deadline %v, %d values; want %v, %d", name, d, len(got), deadline, len(values))
		}
		for k, v := range values {
			if got[k] != v {
				t.Errorf("%s: %s = %#v, want %#v", name, k, got[k], v)
			}
		}
	}
	b, err := SessionCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(sessionMagic)) {
		t.Fatalf("encoded without the codec's mark: %q", b)
	}
	check("round trip", b)

	// A session saved by an earlier release, with scs's gob codec, still reads.
	old, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	check("gob", old)

	// A value of another type falls back to gob for the whole session, and reads back.
	other := map[string]any{"ratio": 0.5, "k": "v"}
	b, err = SessionCodec{}.Encode(deadline, other)
	if err != nil || bytes.HasPrefix(b, []byte(sessionMagic)) {
		t.Fatalf("a float value was not written with gob: %v %q", err, b)
	}
	if _, got, err := (SessionCodec{}).Decode(b); err != nil || got["ratio"] != 0.5 || got["k"] != "v" {
		t.Fatalf("gob fallback: %v %v", got, err)
	}

	// Damaged data is an error, never a panic or a half-read session.
	good, _ := SessionCodec{}.Encode(deadline, values)
	for i := len(sessionMagic); i < len(good); i++ {
		if _, _, err := (SessionCodec{}).Decode(good[:i]); err == nil {
			t.Fatalf("a session cut at byte %d of %d decoded", i, len(good))
		}
	}
}
