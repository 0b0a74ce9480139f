package web

import (
	"context"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
)

// SessionIdleTimeout ends a session nobody has used for this long (its absolute lifetime is the session manager's
// Lifetime). ltipub enforces it itself rather than through scs's IdleTimeout, which re-saves the session on every
// request to move its expiry: that was one write transaction per page view (0.14 ms of CPU per launch on SQLite,
// docs/performance.md), where a page view otherwise only reads.
const SessionIdleTimeout = 4 * time.Hour

// sessionTouchEvery is how stale the session's last-seen mark may get before a request that changes nothing saves
// it again. A session therefore ends after between SessionIdleTimeout-sessionTouchEvery and SessionIdleTimeout
// without use, and a reader of pages writes its session at most once per interval.
const sessionTouchEvery = 5 * time.Minute

// sessionSeen is the session key holding when the session was last saved (Unix seconds).
const sessionSeen = "seen"

// idleExpired reports whether the loaded session has been idle longer than SessionIdleTimeout. A session saved
// before the mark existed has none and is not expired: its next save adds the mark.
func (s *Server) idleExpired(ctx context.Context, now time.Time) bool {
	seen := s.sessions.GetInt64(ctx, sessionSeen)
	return seen != 0 && now.Sub(time.Unix(seen, 0)) > SessionIdleTimeout
}

// touchSession stamps the session with the time just before scs commits it: always when the request changed the
// session anyway (the stamp rides along in the same write), and on an unchanged, stored session only when the last
// stamp is older than sessionTouchEvery. A visitor without a session gets none.
func (s *Server) touchSession(ctx context.Context, now time.Time) {
	switch s.sessions.Status(ctx) {
	case scs.Modified:
	case scs.Unmodified:
		if s.sessions.Token(ctx) == "" {
			return
		}
		seen := s.sessions.GetInt64(ctx, sessionSeen)
		if seen != 0 && now.Sub(time.Unix(seen, 0)) < sessionTouchEvery {
			return
		}
	default: // destroyed this request: nothing to stamp
		return
	}
	s.sessions.Put(ctx, sessionSeen, now.Unix())
}

// touchWriter stamps the session on the response's first byte, which is when scs's own writer (the one this wraps)
// commits the session and sets its cookie.
type touchWriter struct {
	http.ResponseWriter
	s       *Server
	ctx     context.Context
	touched bool
}

func (w *touchWriter) touch() {
	if !w.touched {
		w.touched = true
		w.s.touchSession(w.ctx, w.s.now())
	}
}

func (w *touchWriter) WriteHeader(code int) {
	w.touch()
	w.ResponseWriter.WriteHeader(code)
}

func (w *touchWriter) Write(b []byte) (int, error) {
	w.touch()
	return w.ResponseWriter.Write(b)
}

func (w *touchWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
