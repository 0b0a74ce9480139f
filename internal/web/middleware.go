package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
	sessionKey
)

// withSession marks the request as having session data (scs's LoadAndSave or noSession ran), so that code
// shared with the sessionless endpoints (the language of an error answer) reads the session only when there is
// one: scs panics on a request without.
func withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey, true)))
	})
}

func hasSession(r *http.Request) bool { v, _ := r.Context().Value(sessionKey).(bool); return v }

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
		var quietLog bool // set by handlers of probes (see probes.go)
		// One memo per request: each course, activity and enrolment row is read once (store.Memo).
		ctx := context.WithValue(store.WithMemo(account.WithClient(logging.WithRequestID(r.Context(), id), s.clientAddr(r))), quietKey{}, &quietLog)
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
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/favicon.ico" || strings.HasPrefix(r.URL.Path, "/static/") {
				return
			}
			level := slog.LevelInfo
			if quietLog {
				level = slog.LevelDebug
			}
			s.log.LogAttrs(ctx, level, "request", slog.String("method", r.Method), slog.String("path", logPath(r)),
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
		if strings.HasPrefix(s.cfg.BaseURL, "https://") {
			// Browsers then never try plain http for this host, which a network attacker could answer. No
			// includeSubDomains: ltipub cannot know what else runs under the operator's domain.
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
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
			s.log.WarnContext(r.Context(), "LTI request refused: publishing is disabled", slog.String("path", logPath(r)))
			s.renderProblem(w, r, &Problem{Status: http.StatusServiceUnavailable, Title: "LTI publishing is disabled on this site",
				Cause: "The site administrator has turned LTI publishing off, so launches, logins and registrations are refused.",
				Fix:   "A site administrator can turn it back on under Site administration → Settings (LTI publishing enabled)."})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) csrfDenied(w http.ResponseWriter, r *http.Request) {
	s.log.WarnContext(r.Context(), "cross-origin form post refused", slog.String("path", logPath(r)),
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

// logPath is the request path as logs show it: a dynamic registration URL's token is a credential while the
// registration is pending (anyone holding it can register a platform), so it never reaches the log.
func logPath(r *http.Request) string {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/lti/register/"); ok && rest != "" {
		return "/lti/register/[token]"
	}
	return r.URL.Path
}

// maxFormBody bounds a url-encoded form body: the largest is a pasted course file (maxPastedCourse; files,
// Moodle backups included, come as multipart uploads under their own limit, maxImport); the site's own forms stay
// under maxSmallForm.
const (
	maxPastedCourse = 4 << 20
	maxFormBody     = maxPastedCourse + 64<<10
	maxSmallForm    = 1 << 20
)

// readForm reads a url-encoded form body before anything else happens, so that a body that arrives too slowly, is
// cut short by a client that went away, or is too large gets a 4xx here, quietly, instead of each handler
// carrying on with an empty form and failing later on a cancelled context (which would look like the server's
// fault in the error log). Multipart bodies (uploads) are read by their handlers, under their own limits.
func (s *Server) readForm(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		if r.Body != nil && r.Body != http.NoBody && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch) &&
			strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/x-www-form-urlencoded") {
			// Course imports and the LTI endpoints (which refuse an oversized id_token themselves, in the launch
			// log) get the larger bound.
			limit := int64(maxFormBody)
			if r.URL.Path != "/courses/import" && !strings.HasPrefix(r.URL.Path, "/lti/") {
				limit = maxSmallForm
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if err := r.ParseForm(); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					s.renderProblem(w, r, &Problem{Status: http.StatusRequestEntityTooLarge, Title: "The form is too large",
						Cause: fmt.Sprintf("The form sent is larger than %d KiB.", limit>>10), Fix: "Send less at once.", Err: err})
					return
				}
				s.clientGone(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// clientGone answers a request whose client stopped sending (or went away) with a quiet 400: it is the client's
// doing, so it is logged as a warning, never as a server error.
func (s *Server) clientGone(w http.ResponseWriter, r *http.Request, err error) {
	s.renderProblem(w, r, &Problem{Status: http.StatusBadRequest, Code: "request_incomplete", Title: "The request did not arrive whole",
		Cause: "The browser stopped sending the request before it was complete, or took too long.",
		Fix:   "Send it again.", Err: err})
}

// sameScheme refuses a state-changing request whose Origin names this host under another scheme
// (http://tool.example posting to https://tool.example): http.CrossOriginProtection compares the Origin's host
// with the Host header only, and a page served over plain http (by anyone on the network path) must not be able
// to post as if it were the https site. Browsers that send Sec-Fetch-Site have already compared schemes; the
// LTI endpoints, which platforms post to cross-site, carry their own proofs and are left alone.
func (s *Server) sameScheme(next http.Handler) http.Handler {
	want := "http"
	if strings.HasPrefix(s.cfg.BaseURL, "https://") {
		want = "https"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/lti/") || r.Header.Get("Sec-Fetch-Site") != "" {
			next.ServeHTTP(w, r)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "null" {
			if u, err := url.Parse(o); err == nil && strings.EqualFold(u.Host, r.Host) && !strings.EqualFold(u.Scheme, want) {
				s.csrfDenied(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
