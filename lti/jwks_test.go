package lti

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

func newCache(srv *jwksServer, clock *fakeClock) *RemoteKeySets {
	return NewRemoteKeySets(srv.Client(), RemoteKeySetsOptions{Now: clock.Now})
}

func TestKeyRotationPickedUpOnUnknownKID(t *testing.T) {
	loadKeys(t)
	srv := newJWKSServer(t, jwkKey1)
	clock := &fakeClock{now: testNow}
	ks := newCache(srv, clock)
	v := &Validator{Keys: ks, Nonces: &memNonces{}, Now: clock.Now}
	want := testExpect()
	want.JWKSURL = srv.URL
	ctx := context.Background()

	c := baseClaims()
	if _, err := v.Validate(ctx, signWith(t, jwkKey1, jwa.RS256(), c), want); err != nil {
		t.Fatal(err)
	}
	// The platform rotates: publishes k2 and signs with it. No restart.
	srv.setKeys(jwkKey1, jwkKey2)
	clock.Advance(31 * time.Second)
	c["nonce"] = testNonce
	want.Nonce = testNonce
	v.Nonces = &memNonces{}
	if _, err := v.Validate(ctx, signWith(t, jwkKey2, jwa.RS256(), c), want); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("fetches = %d, want 2", n)
	}
	// k1 removed later: still cached until the TTL runs out.
	srv.setKeys(jwkKey2)
	if _, err := ks.Key(ctx, srv.URL, "k1"); err != nil {
		t.Errorf("k1 within TTL: %v", err)
	}
	clock.Advance(2 * time.Hour)
	if _, err := ks.Key(ctx, srv.URL, "k1"); !errors.Is(err, ErrUnknownKID) {
		t.Errorf("k1 after TTL: err = %v, want ErrUnknownKID", err)
	}
	if n := srv.fetches.Load(); n != 3 {
		t.Errorf("fetches = %d, want 3", n)
	}
}

func TestUnknownKIDFloodIsRateLimited(t *testing.T) {
	loadKeys(t)
	srv := newJWKSServer(t, jwkKey1)
	srv.delay = 20 * time.Millisecond
	clock := &fakeClock{now: testNow}
	ks := newCache(srv, clock)
	ctx := context.Background()

	flood := func() {
		var wg sync.WaitGroup
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := ks.Key(ctx, srv.URL, fmt.Sprintf("bogus-%d", i))
				if !errors.Is(err, ErrUnknownKID) {
					t.Errorf("err = %v, want ErrUnknownKID", err)
				}
			}()
		}
		wg.Wait()
	}

	flood() // cold cache: one fetch, shared by all
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("cold flood: fetches = %d, want 1", n)
	}
	clock.Advance(10 * time.Second)
	flood() // within MinRefetchInterval: no fetch at all
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("flood within interval: fetches = %d, want 1", n)
	}
	clock.Advance(25 * time.Second)
	flood() // interval passed: exactly one refetch
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("flood after interval: fetches = %d, want 2", n)
	}
	// The known key keeps working throughout, without fetches.
	if _, err := ks.Key(ctx, srv.URL, "k1"); err != nil {
		t.Fatal(err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("fetches = %d, want 2", n)
	}
}

func TestStaleKeysServedWhileJWKSDown(t *testing.T) {
	loadKeys(t)
	srv := newJWKSServer(t, jwkKey1)
	clock := &fakeClock{now: testNow}
	ks := newCache(srv, clock)
	ctx := context.Background()
	if _, err := ks.Key(ctx, srv.URL, "k1"); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	srv.status = 503
	srv.mu.Unlock()
	clock.Advance(2 * time.Hour)
	if _, err := ks.Key(ctx, srv.URL, "k1"); err != nil {
		t.Fatalf("stale key while platform down: %v", err)
	}
	if _, err := ks.Key(ctx, srv.URL, "k2"); !errors.Is(err, ErrJWKSFetch) {
		t.Fatalf("unknown kid while platform down: err = %v, want ErrJWKSFetch", err)
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("fetches = %d, want 2 (failed fetch not retried within interval)", n)
	}
}

func TestCacheTTL(t *testing.T) {
	loadKeys(t)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", time.Hour},
		{"max-age=7200", 2 * time.Hour},
		{"public, max-age=10", 5 * time.Minute},
		{"max-age=999999999", 24 * time.Hour},
		{"no-store", 5 * time.Minute},
		{"max-age=junk", time.Hour},
	}
	ks := NewRemoteKeySets(nil, RemoteKeySetsOptions{})
	for _, tt := range tests {
		if got := ks.ttl(tt.header); got != tt.want {
			t.Errorf("ttl(%q) = %s, want %s", tt.header, got, tt.want)
		}
	}

	srv := newJWKSServer(t, jwkKey1)
	srv.cache = "max-age=600"
	clock := &fakeClock{now: testNow}
	c := newCache(srv, clock)
	_, _ = c.Key(context.Background(), srv.URL, "k1")
	clock.Advance(9 * time.Minute)
	_, _ = c.Key(context.Background(), srv.URL, "k1")
	clock.Advance(2 * time.Minute)
	_, _ = c.Key(context.Background(), srv.URL, "k1")
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("fetches = %d, want 2 (refresh after max-age)", n)
	}
}

func TestKeyWithoutAlgWorksForRS256(t *testing.T) {
	loadKeys(t)
	if _, ok := jwkKey1.Algorithm(); ok {
		t.Fatal("test key unexpectedly has alg")
	}
	srv := newJWKSServer(t, jwkKey1)
	ks := newCache(srv, &fakeClock{now: testNow})
	k, err := ks.Key(context.Background(), srv.URL, "k1")
	if err != nil || k.Alg != "" {
		t.Fatalf("key = %+v, %v", k, err)
	}
	var _ jwk.Key = jwkKey1
}
