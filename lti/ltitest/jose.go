package ltitest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
)

// The platform implements the little JOSE it needs with the standard library
// so that it does not share a JOSE library's behaviour (and bugs) with the
// tool under test.

var b64 = base64.RawURLEncoding

// signingKey is one platform RSA key pair.
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
}

// rsaJWK is the JSON form of a public RSA key.
type rsaJWK struct {
	Kty string `json:"kty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
	Kid string `json:"kid,omitempty"`
	N   string `json:"n"`
	E   string `json:"e"`
}

type jwkSet struct {
	Keys []rsaJWK `json:"keys"`
}

func publicJWK(kid string, pub *rsa.PublicKey) rsaJWK {
	e := big.NewInt(int64(pub.E)).Bytes()
	return rsaJWK{Kty: "RSA", Alg: "RS256", Use: "sig", Kid: kid, N: b64.EncodeToString(pub.N.Bytes()), E: b64.EncodeToString(e)}
}

// thumbprint is the RFC 7638 JWK thumbprint of an RSA public key.
func thumbprint(pub *rsa.PublicKey) string {
	e := big.NewInt(int64(pub.E)).Bytes()
	s := fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, b64.EncodeToString(e), b64.EncodeToString(pub.N.Bytes()))
	sum := sha256.Sum256([]byte(s))
	return b64.EncodeToString(sum[:])
}

func (k rsaJWK) rsaPublicKey() (*rsa.PublicKey, error) {
	if k.Kty != "RSA" {
		return nil, fmt.Errorf("kty %q is not RSA", k.Kty)
	}
	n, err := b64.DecodeString(k.N)
	if err != nil || len(n) == 0 {
		return nil, fmt.Errorf("bad modulus for kid %q", k.Kid)
	}
	eb, err := b64.DecodeString(k.E)
	if err != nil || len(eb) == 0 || len(eb) > 4 {
		return nil, fmt.Errorf("bad exponent for kid %q", k.Kid)
	}
	var buf [4]byte
	copy(buf[4-len(eb):], eb)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(binary.BigEndian.Uint32(buf[:]))}
	if pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("kid %q: RSA key of %d bits is below 2048", k.Kid, pub.N.BitLen())
	}
	return pub, nil
}

func encodeSegment(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("ltitest: marshal JOSE segment: %v", err))
	}
	return b64.EncodeToString(b)
}

// signRS256 returns a compact JWS of claims signed by key; header fields in
// extra override the defaults.
func signRS256(key *signingKey, kid string, claims map[string]any) string {
	h := map[string]any{"alg": "RS256", "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	input := encodeSegment(h) + "." + encodeSegment(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key.priv, crypto.SHA256, sum[:])
	if err != nil {
		panic(fmt.Sprintf("ltitest: sign: %v", err))
	}
	return input + "." + b64.EncodeToString(sig)
}

func signNone(kid string, claims map[string]any) string {
	h := map[string]any{"alg": "none", "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	return encodeSegment(h) + "." + encodeSegment(claims) + "."
}

func signHS256(secret []byte, kid string, claims map[string]any) string {
	h := map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}
	input := encodeSegment(h) + "." + encodeSegment(claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + b64.EncodeToString(m.Sum(nil))
}

// Errors of JWT verification; wrapped with detail.
var (
	errMalformedJWT = errors.New("malformed JWT")
	errAlg          = errors.New("algorithm not allowed")
	errNoKID        = errors.New("no kid in JWT header")
	errUnknownKID   = errors.New("kid not in key set")
	errSignature    = errors.New("signature invalid")
)

type jwtParts struct {
	header  map[string]any
	claims  map[string]any
	input   string
	sig     []byte
	kid     string
	rawBody []byte
}

func splitJWT(token string) (*jwtParts, error) {
	segs := strings.Split(token, ".")
	if len(segs) != 3 {
		return nil, fmt.Errorf("%w: %d segments", errMalformedJWT, len(segs))
	}
	hb, err := b64.DecodeString(segs[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", errMalformedJWT, err)
	}
	cb, err := b64.DecodeString(segs[1])
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", errMalformedJWT, err)
	}
	sig, err := b64.DecodeString(segs[2])
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", errMalformedJWT, err)
	}
	p := &jwtParts{input: segs[0] + "." + segs[1], sig: sig, rawBody: cb}
	if err := json.Unmarshal(hb, &p.header); err != nil {
		return nil, fmt.Errorf("%w: header JSON: %v", errMalformedJWT, err)
	}
	dec := json.NewDecoder(bytes.NewReader(cb))
	dec.UseNumber()
	if err := dec.Decode(&p.claims); err != nil {
		return nil, fmt.Errorf("%w: payload JSON: %v", errMalformedJWT, err)
	}
	if alg, _ := p.header["alg"].(string); alg != "RS256" {
		return nil, fmt.Errorf("%w: %q (only RS256)", errAlg, alg)
	}
	p.kid, _ = p.header["kid"].(string)
	if p.kid == "" {
		return nil, errNoKID
	}
	return p, nil
}

func verifyRS256(p *jwtParts, pub *rsa.PublicKey) error {
	sum := sha256.Sum256([]byte(p.input))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], p.sig); err != nil {
		return errSignature
	}
	return nil
}

// keyCache fetches tool JWKS documents, caches them per URL and refetches
// once when a kid is unknown or a signature fails (as Moodle does).
type keyCache struct {
	client  *http.Client
	mu      sync.Mutex
	sets    map[string]map[string]*rsa.PublicKey
	fetches map[string]int
}

func newKeyCache(c *http.Client) *keyCache {
	return &keyCache{client: c, sets: map[string]map[string]*rsa.PublicKey{}, fetches: map[string]int{}}
}

func (c *keyCache) fetch(ctx context.Context, url string) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch tool JWKS %q: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch tool JWKS %q: %w", url, err)
	}
	defer resp.Body.Close()
	c.mu.Lock()
	c.fetches[url]++
	c.mu.Unlock()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch tool JWKS %q: status %d", url, resp.StatusCode)
	}
	var set jwkSet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("fetch tool JWKS %q: decode: %w", url, err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		pub, err := k.rsaPublicKey()
		if err != nil {
			continue
		}
		keys[k.Kid] = pub
	}
	c.mu.Lock()
	c.sets[url] = keys
	c.mu.Unlock()
	return keys, nil
}

// verify checks the signature of p with the key set at url.
func (c *keyCache) verify(ctx context.Context, url string, p *jwtParts) error {
	c.mu.Lock()
	keys, ok := c.sets[url]
	c.mu.Unlock()
	fetched := false
	if !ok {
		var err error
		if keys, err = c.fetch(ctx, url); err != nil {
			return err
		}
		fetched = true
	}
	pub := keys[p.kid]
	if pub == nil || verifyRS256(p, pub) != nil {
		if !fetched {
			var err error
			if keys, err = c.fetch(ctx, url); err != nil {
				return err
			}
			pub = keys[p.kid]
		}
		if pub == nil {
			return fmt.Errorf("%w: %q at %s", errUnknownKID, p.kid, url)
		}
		return verifyRS256(p, pub)
	}
	return nil
}

func (c *keyCache) count(url string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetches[url]
}

// numericClaim reads a NumericDate claim.
func numericClaim(claims map[string]any, name string) (int64, bool) {
	switch v := claims[name].(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, true
		}
		if f, err := v.Float64(); err == nil {
			return int64(f), true
		}
	case float64:
		return int64(v), true
	}
	return 0, false
}

// audContains reports whether aud (string or array) contains want, and how
// many audiences there are.
func audContains(aud any, want string) (bool, int) {
	switch v := aud.(type) {
	case string:
		return v == want, 1
	case []any:
		found := false
		for _, a := range v {
			if s, _ := a.(string); s == want {
				found = true
			}
		}
		return found, len(v)
	}
	return false, 0
}

func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b64.EncodeToString(b)
}
