package lti

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ltipub/ltipub/lti/ltitest"
)

// serviceEnv is the reference platform with this package as the registered tool.
type serviceEnv struct {
	p      *ltitest.Platform
	tokens *TokenSource
	cache  *memCache
}

func newServiceEnv(t testing.TB, cfg ltitest.Config, scopes ...string) *serviceEnv {
	t.Helper()
	loadKeys(t)
	key := SigningKey{KID: Thumbprint(&rsaKey1.PublicKey), Private: rsaKey1}
	jwks, err := PublicJWKS(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	tool := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(tool.Close)
	if cfg.SigningKey == nil {
		cfg.SigningKey = rsaKey2
	}
	p := ltitest.NewServer(t, cfg)
	if err := p.RegisterTool(ltitest.ToolConfig{ClientID: "tool-1", DeploymentIDs: []string{"d1"}, LoginURL: tool.URL + "/login",
		RedirectURIs: []string{tool.URL + "/launch"}, JWKSURL: tool.URL, TargetLinkURI: tool.URL + "/launch", Scopes: scopes}); err != nil {
		t.Fatal(err)
	}
	cache := &memCache{m: map[string]ServiceToken{}}
	ts := &TokenSource{HTTP: &http.Client{Timeout: 5 * time.Second}, Cache: cache, Credentials: ServiceCredentials{
		ClientID: "tool-1", TokenURL: p.TokenURL(),
		Key: func(context.Context) (SigningKey, error) { return key, nil },
	}}
	return &serviceEnv{p: p, tokens: ts, cache: cache}
}

func (e *serviceEnv) client(scopes ...string) *ServiceClient {
	return &ServiceClient{HTTP: &http.Client{Timeout: time.Second}, Tokens: e.tokens, Scopes: scopes}
}

type memCache struct {
	mu            sync.Mutex
	m             map[string]ServiceToken
	stores, drops int
}

func (c *memCache) CachedToken(_ context.Context, key string) (ServiceToken, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[key]
	return t, ok, nil
}

func (c *memCache) StoreToken(_ context.Context, key string, t ServiceToken) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = t
	c.stores++
	return nil
}

func (c *memCache) DropToken(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
	c.drops++
	return nil
}

func TestServiceTokenCachedAndShared(t *testing.T) {
	t.Parallel()
	e := newServiceEnv(t, ltitest.Config{})
	ctx := context.Background()
	scopes := []string{ScopeScore, ScopeLineItem}
	t1, err := e.tokens.Token(ctx, scopes)
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqual(t1.Scopes, []string{ScopeScore, ScopeLineItem}) || time.Until(t1.Expiry) < 50*time.Minute {
		t.Fatalf("token %v scopes %v", t1, t1.Scopes)
	}
	// Same scopes in another order: from the cache. A second source on the same cache (another instance) too.
	t2, _ := e.tokens.Token(ctx, []string{ScopeLineItem, ScopeScore})
	other := &TokenSource{HTTP: e.tokens.HTTP, Cache: e.cache, Credentials: e.tokens.Credentials}
	t3, _ := other.Token(ctx, scopes)
	if t2.AccessToken != t1.AccessToken || t3.AccessToken != t1.AccessToken {
		t.Fatal("the cached token was not reused")
	}
	if n := len(e.p.TokenRequests()); n != 1 {
		t.Fatalf("token endpoint called %d times, want 1", n)
	}
	// Near expiry: a new one.
	e.tokens.Margin = 61 * time.Minute
	t4, err := e.tokens.Token(ctx, scopes)
	if err != nil || t4.AccessToken == t1.AccessToken {
		t.Fatalf("expected a fresh token near expiry, err %v", err)
	}
}

func TestServiceTokenRefused(t *testing.T) {
	t.Parallel()
	e := newServiceEnv(t, ltitest.Config{}, ScopeScore)
	_, err := e.tokens.Token(context.Background(), []string{ScopeMembership})
	if !errors.Is(err, ErrTokenRefused) || Retryable(err) {
		t.Fatalf("err = %v, want a permanent token refusal", err)
	}
	if !strings.Contains(err.Error(), "invalid_scope") {
		t.Fatalf("the platform's reason is missing: %v", err)
	}
	// A wrong audience is refused with the platform's words.
	e.tokens.Credentials.Audience = "https://elsewhere.example/token"
	_, err = e.tokens.Token(context.Background(), []string{ScopeScore})
	if !errors.Is(err, ErrTokenRefused) || !strings.Contains(err.Error(), "aud") {
		t.Fatalf("err = %v", err)
	}
	// A failing token endpoint is retryable, with Retry-After.
	e.tokens.Credentials.Audience = ""
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceToken, Kind: ltitest.FaultTooManyRequests, RetryAfter: 7})
	_, err = e.tokens.Token(context.Background(), []string{ScopeScore})
	if d, ok := RetryAfter(err); !Retryable(err) || !ok || d != 7*time.Second {
		t.Fatalf("err = %v, retry after %v", err, d)
	}
}

func TestNextLink(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, link, want string }{
		{"plain", `<https://p/x?page=2>; rel="next"`, "https://p/x?page=2"},
		{"among others", `<https://p/x?page=1>; rel="first", <https://p/x?page=3>; rel="next", <https://p/x?page=9>; rel="last"`, "https://p/x?page=3"},
		{"moodle curly quotes", `<https://p/x?from=10>; rel=“next”`, "https://p/x?from=10"},
		{"unquoted, relative", `</x?page=2>; rel=next`, "https://p/x?page=2"},
		{"comma in url", `<https://p/x?a=1,2>; rel="next"`, "https://p/x?a=1,2"},
		{"none", `<https://p/x>; rel="prev"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Link": {tt.link}}
			if got := NextLink(h, "https://p/x"); got != tt.want {
				t.Fatalf("NextLink = %q, want %q", got, tt.want)
			}
		})
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
