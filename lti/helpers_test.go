package lti

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

const (
	testIssuer   = "https://lms.example.edu"
	testClientID = "client-123"
	testDeploy   = "deploy-1"
	testNonce    = "nonce-abc"
	testTarget   = "https://tool.example.com/lti/launch"
)

var testNow = time.Unix(1_800_000_000, 0)

// Keys are generated once per test binary: RSA generation is slow.
var (
	keysOnce           sync.Once
	rsaKey1, rsaKey2   *rsa.PrivateKey
	rsaOther, rsaSmall *rsa.PrivateKey
	ecKey              *ecdsa.PrivateKey
	jwkKey1, jwkKey2   jwk.Key
	jwkOther, jwkEC    jwk.Key
	jwkRS512Alg        jwk.Key
)

func loadKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		must := func(k *rsa.PrivateKey, err error) *rsa.PrivateKey {
			if err != nil {
				panic(err)
			}
			return k
		}
		rsaKey1 = must(rsa.GenerateKey(rand.Reader, 2048))
		rsaKey2 = must(rsa.GenerateKey(rand.Reader, 2048))
		rsaOther = must(rsa.GenerateKey(rand.Reader, 2048))
		rsaSmall = must(rsa.GenerateKey(rand.Reader, 1024))
		var err error
		ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		imp := func(raw any, kid string, alg jwa.SignatureAlgorithm) jwk.Key {
			k, err := jwk.Import(raw)
			if err != nil {
				panic(err)
			}
			_ = k.Set(jwk.KeyIDKey, kid)
			if alg != (jwa.SignatureAlgorithm{}) {
				_ = k.Set(jwk.AlgorithmKey, alg)
			}
			return k
		}
		// key1 deliberately has no alg: such keys must work for RS256.
		jwkKey1 = imp(rsaKey1, "k1", jwa.SignatureAlgorithm{})
		jwkKey2 = imp(rsaKey2, "k2", jwa.RS256())
		jwkOther = imp(rsaOther, "k1", jwa.SignatureAlgorithm{}) // same kid, wrong key
		jwkEC = imp(ecKey, "ec1", jwa.ES256())
		jwkRS512Alg = imp(rsaKey2, "k512", jwa.RS512())
	})
}

// jwksServer serves the public parts of keys and counts fetches.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int64
	mu      sync.Mutex
	keys    []jwk.Key
	delay   time.Duration
	status  int
	cache   string
}

func newJWKSServer(t testing.TB, keys ...jwk.Key) *jwksServer {
	s := &jwksServer{keys: keys, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		keys, delay, status, cache := s.keys, s.delay, s.status, s.cache
		s.mu.Unlock()
		time.Sleep(delay)
		set := jwk.NewSet()
		for _, k := range keys {
			pub, err := k.PublicKey()
			if err != nil {
				panic(err)
			}
			_ = set.AddKey(pub)
		}
		if cache != "" {
			w.Header().Set("Cache-Control", cache)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(keys ...jwk.Key) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// memNonces is an in-memory NonceStore.
type memNonces struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (n *memNonces) UseNonce(_ context.Context, iss, nonce string, _ time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen == nil {
		n.seen = map[string]bool{}
	}
	if n.seen[iss+" "+nonce] {
		return fmt.Errorf("nonce %s: %w", nonce, ErrNonceReused)
	}
	n.seen[iss+" "+nonce] = true
	return nil
}

// nopNonces accepts every nonce (fuzzing, benchmarks).
type nopNonces struct{}

func (nopNonces) UseNonce(context.Context, string, string, time.Time) error { return nil }

// baseClaims is a valid Moodle-like resource link launch.
func baseClaims() map[string]any {
	return map[string]any{
		"iss":              testIssuer,
		"sub":              "2",
		"aud":              testClientID,
		"exp":              testNow.Add(60 * time.Second).Unix(),
		"iat":              testNow.Unix(),
		"nonce":            testNonce,
		"name":             "Ada Lovelace",
		"email":            "ada@example.edu",
		ClaimMessageType:   "LtiResourceLinkRequest",
		ClaimVersion:       "1.3.0",
		ClaimDeploymentID:  testDeploy,
		ClaimTargetLinkURI: testTarget,
		ClaimResourceLink:  map[string]any{"id": "42", "title": "Week 1"},
		ClaimRoles: []string{
			"http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
		},
		ClaimContext:      map[string]any{"id": "c1", "label": "CS101", "type": []string{"CourseSection"}},
		ClaimToolPlatform: map[string]any{"guid": "moodle.example.edu", "family_code": "moodle", "version": "2024100700"},
		ClaimCustom:       map[string]any{"course": "algebra", "n": 3, "flag": true, "obj": map[string]any{"a": 1}, "unset": "$User.username"},
		ClaimLaunchPresentation: map[string]any{
			"document_target": "iframe", "return_url": "https://lms.example.edu/return", "width": 800, "height": "600",
		},
		ClaimAGSEndpoint: map[string]any{
			"scope":     []string{"https://purl.imsglobal.org/spec/lti-ags/scope/score"},
			"lineitems": "https://lms.example.edu/ags/lineitems",
			"lineitem":  "https://lms.example.edu/ags/lineitems/1",
		},
		ClaimNRPS: map[string]any{
			"context_memberships_url": "https://lms.example.edu/nrps",
			"service_versions":        []string{"2.0"},
		},
		"https://purl.imsglobal.org/spec/lti/claim/ext": map[string]any{"lms": "moodle-2"},
	}
}

func deepLinkClaims() map[string]any {
	c := baseClaims()
	delete(c, ClaimResourceLink)
	c[ClaimMessageType] = "LtiDeepLinkingRequest"
	c[ClaimRoles] = []string{"http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"}
	c[ClaimDeepLinkingSettings] = map[string]any{
		"deep_link_return_url":                 "https://lms.example.edu/mod/lti/contentitem_return.php?course=2&id=1&sesskey=x",
		"accept_types":                         []string{"ltiResourceLink"},
		"accept_presentation_document_targets": []string{"frame", "iframe", "window"},
		"accept_multiple":                      "true",
		"accept_lineitem":                      "false",
		"auto_create":                          false,
		"data":                                 "opaque-123",
	}
	return c
}

// signWith signs claims with a jwx key (its kid goes in the header).
func signWith(t testing.TB, key jwk.Key, alg jwa.SignatureAlgorithm, claims any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.Sign(payload, jws.WithKey(alg, key))
	if err != nil {
		t.Fatal(err)
	}
	return string(tok)
}

func sign(t testing.TB, claims any) string {
	t.Helper()
	loadKeys(t)
	return signWith(t, jwkKey1, jwa.RS256(), claims)
}

func testExpect() Expect {
	return Expect{
		Issuer:          testIssuer,
		ClientID:        testClientID,
		Nonce:           testNonce,
		DeploymentKnown: func(id string) bool { return id == testDeploy },
		TargetLinkURIAllowed: func(u string) bool {
			return u == testTarget
		},
	}
}

// newTestValidator returns a validator over a fresh JWKS server.
func newTestValidator(t testing.TB, nonces NonceStore) (*Validator, *jwksServer, Expect) {
	loadKeys(t)
	srv := newJWKSServer(t, jwkKey1, jwkKey2, jwkEC, jwkRS512Alg)
	keys := NewRemoteKeySets(srv.Client(), RemoteKeySetsOptions{Now: func() time.Time { return testNow }})
	want := testExpect()
	want.JWKSURL = srv.URL
	return &Validator{Keys: keys, Nonces: nonces, Now: func() time.Time { return testNow }}, srv, want
}
