package lti

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// PublicKey is one verification key from a platform's JWKS.
type PublicKey struct {
	KID string
	// Alg is the JWK's alg ("RS256"...), empty when the JWK has none; a key
	// without alg is usable with any algorithm of its type.
	Alg string
	// Key is *rsa.PublicKey or *ecdsa.PublicKey.
	Key crypto.PublicKey
}

// KeySet finds the platform key that signed a token.
//
// Key returns the key with ID kid from the JWKS at jwksURL. Errors are
// *Error values matching ErrUnknownKID or ErrJWKSFetch.
type KeySet interface {
	Key(ctx context.Context, jwksURL, kid string) (*PublicKey, error)
}

// RemoteKeySetsOptions tunes NewRemoteKeySets. Zero values take the
// defaults documented on each field.
type RemoteKeySetsOptions struct {
	// MinRefetchInterval is the least time between two fetches of one URL
	// (default 30 s). An unknown kid triggers a refetch only after it.
	//
	// Why 30 s: unknown kids cost nothing to send (anyone can start a login),
	// so without a floor each bogus launch would hit the platform. At one
	// fetch per 30 s per registered URL the load is negligible, while a
	// genuine key rotation is picked up by the first launch that uses the
	// new key, or at worst 30 s after a flood-triggered fetch.
	MinRefetchInterval time.Duration
	// DefaultTTL is used when the response has no Cache-Control max-age
	// (default 1 h). Any TTL is clamped to [MinTTL, MaxTTL].
	DefaultTTL time.Duration
	MinTTL     time.Duration // default 5 min
	MaxTTL     time.Duration // default 24 h
	// MaxBody caps the JWKS document (default 1 MiB).
	MaxBody int64
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// RemoteKeySets is a KeySet that fetches and caches JWKS documents, one
// entry per URL, through an injected (guarded) HTTP client.
//
// It is written by hand rather than on jwk.Cache/httprc because the rule
// that matters here — refetch on an unknown kid, single-flight, at most once
// per MinRefetchInterval per URL, and keep serving the last good keys while
// the platform is down — is a few lines over a map, whereas httprc
// refreshes on its own schedule and needs its own goroutines and client
// wiring.
type RemoteKeySets struct {
	client *http.Client
	opts   RemoteKeySetsOptions

	mu   sync.Mutex
	sets map[string]*remoteSet
}

type remoteSet struct {
	mu        sync.Mutex
	keys      map[string]*PublicKey
	fetched   bool      // keys holds a successfully fetched set
	expires   time.Time // when keys should be refreshed
	lastFetch time.Time // start of the last fetch attempt
	lastErr   error     // error of the last fetch attempt
	inflight  chan struct{}
}

// NewRemoteKeySets returns a caching KeySet using client for every fetch.
// Pass the safehttp client: JWKS URLs come from registrations.
func NewRemoteKeySets(client *http.Client, opts RemoteKeySetsOptions) *RemoteKeySets {
	if opts.MinRefetchInterval <= 0 {
		opts.MinRefetchInterval = 30 * time.Second
	}
	if opts.DefaultTTL <= 0 {
		opts.DefaultTTL = time.Hour
	}
	if opts.MinTTL <= 0 {
		opts.MinTTL = 5 * time.Minute
	}
	if opts.MaxTTL <= 0 {
		opts.MaxTTL = 24 * time.Hour
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &RemoteKeySets{client: client, opts: opts, sets: make(map[string]*remoteSet)}
}

func (r *RemoteKeySets) set(url string) *remoteSet {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sets[url]
	if !ok {
		s = &remoteSet{}
		r.sets[url] = s
	}
	return s
}

// Key implements KeySet.
func (r *RemoteKeySets) Key(ctx context.Context, jwksURL, kid string) (*PublicKey, error) {
	s := r.set(jwksURL)
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		now := r.opts.Now()
		k, ok := s.keys[kid]
		fresh := s.fetched && now.Before(s.expires)
		if ok && fresh {
			s.mu.Unlock()
			return k, nil
		}
		if wait := s.inflight; wait != nil {
			// Another goroutine is fetching this URL: share its result.
			s.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, newErr(CodeJWKSFetch, ctx.Err(), "waiting for the platform key set at %s", jwksURL)
			}
		}
		rateLimited := !s.lastFetch.IsZero() && now.Sub(s.lastFetch) < r.opts.MinRefetchInterval
		if attempt > 0 || rateLimited {
			s.mu.Unlock()
			return r.noFetch(s, k, ok, jwksURL, kid, attempt > 0)
		}
		done := make(chan struct{})
		s.inflight = done
		s.lastFetch = now
		s.mu.Unlock()

		// The fetch is shared, so one caller's cancellation must not fail
		// the others; the client's timeout bounds it.
		keys, ttl, err := r.fetch(context.WithoutCancel(ctx), jwksURL)

		s.mu.Lock()
		s.lastErr = err
		if err == nil {
			s.keys, s.fetched, s.expires = keys, true, r.opts.Now().Add(ttl)
		}
		s.inflight = nil
		close(done)
		s.mu.Unlock()
	}
}

// noFetch answers without fetching: after this caller's own fetch, or when
// the URL was fetched too recently. A stale key is better than none while
// the platform's JWKS endpoint is failing.
func (r *RemoteKeySets) noFetch(s *remoteSet, k *PublicKey, ok bool, url, kid string, fetchedNow bool) (*PublicKey, error) {
	s.mu.Lock()
	lastErr, fetched, lastFetch := s.lastErr, s.fetched, s.lastFetch
	s.mu.Unlock()
	if ok {
		return k, nil
	}
	if lastErr != nil {
		return nil, newErr(CodeJWKSFetch, lastErr, "fetching the platform key set %s failed", url)
	}
	if !fetched {
		return nil, newErr(CodeJWKSFetch, nil, "the platform key set %s has not been fetched", url)
	}
	if fetchedNow {
		return nil, newErr(CodeUnknownKID, nil,
			"key ID %q is not in the platform key set %s (just refetched)", kid, url)
	}
	return nil, newErr(CodeUnknownKID, nil,
		"key ID %q is not in the platform key set %s (fetched %s ago; refetching at most every %s)",
		kid, url, r.opts.Now().Sub(lastFetch).Round(time.Second), r.opts.MinRefetchInterval)
}

func (r *RemoteKeySets) fetch(ctx context.Context, url string) (map[string]*PublicKey, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := readLimited(resp, r.opts.MaxBody)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("GET %s: HTTP %s", url, resp.Status)
	}
	keys, err := ParseJWKS(body)
	if err != nil {
		return nil, 0, err
	}
	return keys, r.ttl(resp.Header.Get("Cache-Control")), nil
}

func (r *RemoteKeySets) ttl(cacheControl string) time.Duration {
	ttl := r.opts.DefaultTTL
	for _, d := range strings.Split(cacheControl, ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			if n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64); err == nil && n >= 0 {
				ttl = time.Duration(min(n, int64(365*24*3600))) * time.Second
			}
		} else if d == "no-store" || d == "no-cache" {
			ttl = 0
		}
	}
	return min(max(ttl, r.opts.MinTTL), r.opts.MaxTTL)
}

// ParseJWKS parses a JWKS document into signature keys by kid. Keys without
// kid, keys whose use is not "sig", and keys that are neither RSA nor EC are
// skipped (symmetric keys in particular are never accepted).
func ParseJWKS(data []byte) (map[string]*PublicKey, error) {
	// Ignore keys jwx cannot parse: one odd key in a platform's set (an
	// encryption key, an unsupported kty, a retired short RSA key) must not
	// make its good signing keys unusable. JSON syntax errors still fail.
	set, err := jwk.Parse(data, jwk.WithIgnoreParseError(true))
	if err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	out := make(map[string]*PublicKey, set.Len())
	for i := 0; i < set.Len(); i++ {
		key, _ := set.Key(i)
		kid, _ := key.KeyID()
		if kid == "" {
			continue
		}
		if use, ok := key.KeyUsage(); ok && use != "" && use != "sig" {
			continue
		}
		var raw any
		if err := jwk.Export(key, &raw); err != nil {
			continue
		}
		var pub crypto.PublicKey
		switch k := raw.(type) {
		case *rsa.PublicKey:
			pub = k
		case *rsa.PrivateKey:
			pub = &k.PublicKey
		case *ecdsa.PublicKey:
			pub = k
		case *ecdsa.PrivateKey:
			pub = &k.PublicKey
		default:
			continue
		}
		pk := &PublicKey{KID: kid, Key: pub}
		if alg, ok := key.Algorithm(); ok {
			pk.Alg = alg.String()
		}
		out[kid] = pk
	}
	return out, nil
}

func readLimited(resp *http.Response, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("read JWKS: %w", err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("JWKS larger than %d bytes", max)
	}
	return b, nil
}
