package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
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
	sessionKey ctxKey = iota
	valsKey
)

// reqVals is what the middleware learns of a request, held in one context value that requestContext sets:
// each middleware fills its part in place, where each used to copy the request (Request.WithContext) to add
// its own value. A request has its own, never shared with another.
type reqVals struct {
	quiet    bool          // the access-log line at debug level (probes)
	nonce    string        // the CSP nonce of the page's scripts (securityHeaders)
	user     *account.User // the signed-in user (loadUser)
	scope    *launchScope  // what a launched session is contained to (loadUser)
	embedded bool          // the embedded layout for the whole launched session (loadUser)
	ret      returnLink    // the way back to the platform (loadUser)
}

// vals is the request's reqVals; a request that did not come through requestContext (a handler called
// directly) reads empty ones.
func vals(ctx context.Context) *reqVals {
	if v, ok := ctx.Value(valsKey).(*reqVals); ok {
		return v
	}
	return &reqVals{}
}

// withVals returns r with its reqVals to fill, adding them when requestContext did not.
func withVals(r *http.Request) (*http.Request, *reqVals) {
	if v, ok := r.Context().Value(valsKey).(*reqVals); ok {
		return r, v
	}
	v := &reqVals{}
	return r.WithContext(context.WithValue(r.Context(), valsKey, v)), v
}

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
		rv := &reqVals{} // quiet is set by handlers of probes (see probes.go)
		// One memo per request: each course, activity and enrolment row is read once (store.Memo).
		ctx := context.WithValue(store.WithMemo(account.WithClient(logging.WithRequestID(r.Context(), id), s.clientAddr(r))), valsKey, rv)
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(ctx, "panic serving request", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				if sw.status == 0 {
					// With none of what the middleware learnt (as when each added its own value to a copy).
					s.renderProblem(sw, r.WithContext(context.WithValue(ctx, valsKey, &reqVals{})), &Problem{Status: http.StatusInternalServerError,
						Title: "Something went wrong on our side", Cause: "The server hit an unexpected error.",
						Fix: "Try again. If it keeps happening, give the site admin the request id " + id + "."})
				}
			}
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/favicon.ico" || strings.HasPrefix(r.URL.Path, "/static/") {
				return
			}
			level := slog.LevelInfo
			if rv.quiet {
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
		r, rv := withVals(r)
		rv.nonce = nonce
		next.ServeHTTP(w, r)
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
		r, rv := withVals(r)
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
				rv.user = &u
				if sc := parseScope(s.sessions.GetString(r.Context(), sessionScope)); sc != nil {
					rv.scope = sc
				}
			}
		}
		// Embedding and the way back to the platform hold for the whole launched session, including the account
		// choice that comes before a user is known.
		if s.sessions.GetBool(r.Context(), sessionEmbedded) {
			rv.embedded = true
		}
		if u := s.sessions.GetString(r.Context(), sessionReturnURL); u != "" {
			rv.ret = returnLink{URL: u, Name: s.sessions.GetString(r.Context(), sessionReturnName)}
		}
		next.ServeHTTP(w, r)
	})
}

// currentUser returns the signed-in user, or nil.
func currentUser(r *http.Request) *account.User {
	return vals(r.Context()).user
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
			if r.ContentLength > 0 && r.ContentLength <= min(limit, presizedForm) && r.PostForm == nil {
				// The usual small form (an id_token post is a few KiB): read it into one buffer of its
				// announced length, not io.ReadAll's doubling ones. The announced length bounds what is
				// read (net/http stops the body there), and it is under the form's limit.
				if err := readSizedForm(r); err != nil {
					s.clientGone(w, r, err)
					return
				}
				next.ServeHTTP(w, r)
				return
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

// presizedForm is the largest announced form body read into a buffer of its length at once: above it, the
// buffer grows as the body arrives, so that a client announcing a large body and sending little cannot make
// the server allocate it.
const presizedForm = 64 << 10

// readSizedForm parses the urlencoded body of r, whose Content-Length is set and small, as ParseForm would:
// PostForm from the body, Form from it and the URL's query.
func readSizedForm(r *http.Request) error {
	buf := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, buf); err != nil {
		return err
	}
	vs, err := url.ParseQuery(string(buf))
	if err != nil {
		return err
	}
	r.PostForm = vs
	return r.ParseForm()
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
