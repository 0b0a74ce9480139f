package web

import (
	"context"
	"crypto/subtle"
	"net/http"
	"time"
)

// routeKey holds, for the request being measured, the route pattern the innermost mux chose.
type routeKey struct{}

// observe measures every request under its route pattern (not its path: one series per route, not per course).
func (s *Server) observe(next http.Handler) http.Handler {
	if s.cfg.Metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route := new(string)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), routeKey{}, route)))
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		s.cfg.Metrics.ObserveRequest(*route, r.Method, status, time.Since(start))
	})
}

// notePattern wraps a mux: ServeMux writes the pattern it matched into the request it was given, so once it has
// answered, the pattern is there to note. Muxes nest (/lti/ inside the pages); the innermost, which answers
// first, names the route.
func notePattern(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if route, ok := r.Context().Value(routeKey{}).(*string); ok && *route == "" {
			*route = r.Pattern
		}
	})
}

// metricsEndpoint is GET /metrics on the main listener, routed only when a token is configured
// (--metrics-token-file), and answered only to requests that bear it.
func (s *Server) metricsEndpoint(w http.ResponseWriter, r *http.Request) {
	tok := s.cfg.MetricsToken
	got, ok := bearer(r)
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ltipub metrics"`)
		http.Error(w, "metrics need the token of --metrics-token-file: send \"Authorization: Bearer <token>\"", http.StatusUnauthorized)
		return
	}
	s.cfg.Metrics.Handler().ServeHTTP(w, r)
}

func bearer(r *http.Request) (string, bool) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || !equalFold(h[:len(prefix)], prefix) {
		return "", false
	}
	return h[len(prefix):], true
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}
