package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/logging"
	"github.com/ltipub/ltipub/internal/store"
)

type ctxKey int

const (
	userKey ctxKey = iota
	nonceKey
	scopeKey
	embeddedKey
	returnKey
)

// sessionUserID is the session key that holds the signed-in user's id.
const sessionUserID = "user_id"

// statusWriter remembers the status code for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestContext gives each request an id (echoed in X-Request-Id and on every log line), recovers panics into a
// 500 page, and writes one access-log line.
func (s *Server) requestContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := randomToken(9)
		// One memo per request: each course, activity and enrolment row is read once (store.Memo).
		ctx := store.WithMemo(logging.WithRequestID(r.Context(), id))
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(ctx, "panic serving request", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				if sw.status == 0 {
					s.renderProblem(sw, r.WithContext(ctx), &Problem{Status: http.StatusInternalServerError,
						Title: "Something went wrong on our side", Cause: "The server hit an unexpected error.",
						Fix: "Try again. If it keeps happening, give the site admin the request id " + id + "."})
				}
			}
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || strings.HasPrefix(r.URL.Path, "/static/") {
				return
			}
			s.log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Duration("took", time.Since(start)))
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// securityHeaders sets the headers every response carries, and the framing policy from the site settings.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		nonce := randomToken(12)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		frame := "frame-ancestors 'none'"
		settings, err := s.cfg.Site.Get(r.Context())
		if err != nil {
			s.log.ErrorContext(r.Context(), "load site settings", slog.Any("error", err))
		}
		if err == nil && settings.AllowFrameEmbedding {
			frame = "frame-ancestors " + strings.Join(s.frameAncestors(r.Context()), " ")
		} else {
			h.Set("X-Frame-Options", "DENY")
		}
		h.Set("Content-Security-Policy", fmt.Sprintf("default-src 'self'; script-src 'self' 'nonce-%s'; "+
			"style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; %s", nonce, frame))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), nonceKey, nonce)))
	})
}

// frameAncestors lists who may frame ltipub's pages when framing is allowed: this site and the origins of the
// active registrations' platforms (their issuer and authentication URL), never any https origin.
func (s *Server) frameAncestors(ctx context.Context) []string {
	origins, err := s.cfg.Platforms.FrameOrigins(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "list framing origins", slog.Any("error", err))
	}
	return append([]string{"'self'"}, origins...)
}

// loadUser puts the signed-in user, if any, into the request context.
func (s *Server) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.idleExpired(r.Context(), s.now()) {
			// Unused for longer than SessionIdleTimeout: signed out, as if the session had not been found.
			_ = s.sessions.Destroy(r.Context())
		}
		w = &touchWriter{ResponseWriter: w, s: s, ctx: r.Context()}
		id := s.sessions.GetInt64(r.Context(), sessionUserID)
		// LTI endpoints never act as the signed-in account (a launch signs in whoever the platform says), so the
		// account is not read for them: a launch reads each row once.
		if id != 0 && !strings.HasPrefix(r.URL.Path, "/lti/") {
			u, err := s.cfg.Store.UserByID(r.Context(), id)
			switch {
			case errors.Is(err, store.ErrNotFound):
				// The account was deleted while signed in: end the session.
				_ = s.sessions.Destroy(r.Context())
			case err != nil:
				s.fail(w, r, fmt.Errorf("load signed-in user %d: %w", id, err))
				return
			case u.Suspended():
				// An admin suspended the account while it was signed in: end the session as for a deleted one.
				_ = s.sessions.Destroy(r.Context())
			default:
				ctx := context.WithValue(r.Context(), userKey, &u)
				if sc := parseScope(s.sessions.GetString(ctx, sessionScope)); sc != nil {
					ctx = context.WithValue(ctx, scopeKey, sc)
				}
				r = r.WithContext(ctx)
			}
		}
		// Embedding and the way back to the platform hold for the whole launched session, including the account
		// choice that comes before a user is known.
		if s.sessions.GetBool(r.Context(), sessionEmbedded) {
			r = r.WithContext(context.WithValue(r.Context(), embeddedKey, true))
		}
		if u := s.sessions.GetString(r.Context(), sessionReturnURL); u != "" {
			r = r.WithContext(context.WithValue(r.Context(), returnKey, returnLink{URL: u, Name: s.sessions.GetString(r.Context(), sessionReturnName)}))
		}
		next.ServeHTTP(w, r)
	})
}

// currentUser returns the signed-in user, or nil.
func currentUser(r *http.Request) *account.User {
	u, _ := r.Context().Value(userKey).(*account.User)
	return u
}

// requireUser sends anonymous visitors to the login page, remembering where they were going.
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.renderProblem(w, r, errSignInRequired)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireAdmin lets only site admins through.
func (s *Server) requireAdmin(next http.Handler) http.Handler {
	return s.requireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !currentUser(r).IsAdmin {
			s.renderProblem(w, r, &Problem{Status: http.StatusForbidden, Title: "Site administrators only",
				Cause: "This page is for site administrators, and your account is not one.",
				Fix:   "Ask a site administrator if you need a change made here."})
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// requirePublishing answers every LTI endpoint with a clear refusal while the site has LTI publishing off.
func (s *Server) requirePublishing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		settings, err := s.cfg.Site.Get(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !settings.PublishingEnabled {
			s.log.WarnContext(r.Context(), "LTI request refused: publishing is disabled", slog.String("path", r.URL.Path))
			s.renderProblem(w, r, &Problem{Status: http.StatusServiceUnavailable, Title: "LTI publishing is disabled on this site",
				Cause: "The site administrator has turned LTI publishing off, so launches, logins and registrations are refused.",
				Fix:   "A site administrator can turn it back on under Site administration → Settings (LTI publishing enabled)."})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) csrfDenied(w http.ResponseWriter, r *http.Request) {
	s.log.WarnContext(r.Context(), "cross-origin form post refused", slog.String("path", r.URL.Path),
		slog.String("origin", r.Header.Get("Origin")), slog.String("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")))
	s.renderProblem(w, r, &Problem{Status: http.StatusForbidden, Title: "Form refused",
		Cause: "This form was sent from another site, which is how cross-site request forgery works, so it was not accepted.",
		Fix:   "Open the page on this site and send the form again."})
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
