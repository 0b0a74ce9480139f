package lti

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// testToolKey is a fixed key (testdata/tool_key.pem, test use only) so that
// golden files are stable.
func testToolKey(t testing.TB) SigningKey {
	t.Helper()
	data, err := os.ReadFile("testdata/tool_key.pem")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := DecodePrivateKeyPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	return SigningKey{KID: Thumbprint(&priv.PublicKey), Private: priv}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lti -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from golden file; got:\n%s\nrun go test ./lti -run %s -update if intended", path, buf.Bytes(), t.Name())
	}
}

func TestThumbprintMatchesJWX(t *testing.T) {
	k := testToolKey(t)
	jk, err := jwk.Import(&k.Private.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := jk.Thumbprint(cryptoSHA256)
	if err != nil {
		t.Fatal(err)
	}
	if got := b64(tp); got != k.KID {
		t.Errorf("Thumbprint = %s, jwx says %s", k.KID, got)
	}
}

func TestPublicJWKSGolden(t *testing.T) {
	k := testToolKey(t)
	out, err := PublicJWKS(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "jwks.golden.json", out)
	// And it parses back to the same key.
	keys, err := ParseJWKS(out)
	if err != nil || keys[k.KID] == nil || keys[k.KID].Alg != "RS256" {
		t.Fatalf("ParseJWKS(PublicJWKS) = %v, %v", keys, err)
	}
	if strings.Contains(string(out), `"d"`) {
		t.Error("private exponent in public JWKS")
	}
}

func TestSignVerifiesWithJWX(t *testing.T) {
	k := testToolKey(t)
	tok, err := Sign(k, map[string]any{"iss": "me", "exp": time.Now().Add(time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	pub, _ := jwk.Import(&k.Private.PublicKey)
	_ = pub.Set(jwk.KeyIDKey, k.KID)
	_ = pub.Set(jwk.AlgorithmKey, jwa.RS256())
	_ = set.AddKey(pub)
	parsed, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set))
	if err != nil {
		t.Fatalf("jwx rejects our JWT: %v", err)
	}
	if iss, _ := parsed.Issuer(); iss != "me" {
		t.Errorf("iss = %q", iss)
	}
	msg, _ := jws.Parse([]byte(tok))
	h := msg.Signatures()[0].ProtectedHeaders()
	if kid, _ := h.KeyID(); kid != k.KID {
		t.Errorf("kid = %q", kid)
	}
	if typ, _ := h.Type(); typ != "JWT" {
		t.Errorf("typ = %q", typ)
	}
}

func TestSigningKeyNeverLogged(t *testing.T) {
	k := testToolKey(t)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", k)
	s := buf.String() + fmt.Sprint(k) + fmt.Sprintf("%v %+v %s", k, k, k)
	if strings.Contains(s, k.Private.D.String()) || strings.Contains(s, k.Private.N.String()[:20]) {
		t.Errorf("key material leaked: %s", s)
	}
}

func TestPEMRoundTrip(t *testing.T) {
	k, err := GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	if k.Private.N.BitLen() != 2048 || k.KID != Thumbprint(&k.Private.PublicKey) {
		t.Fatalf("generated key: %d bits kid %s", k.Private.N.BitLen(), k.KID)
	}
	p, err := EncodePrivateKeyPEM(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodePrivateKeyPEM(p)
	if err != nil || !back.Equal(k.Private) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := DecodePrivateKeyPEM([]byte("nope")); err == nil {
		t.Error("garbage accepted")
	}
	pub, err := EncodePublicKeyPEM(&k.Private.PublicKey)
	if err != nil || !bytes.HasPrefix(pub, []byte("-----BEGIN PUBLIC KEY-----")) {
		t.Errorf("public PEM: %s %v", pub, err)
	}
}
