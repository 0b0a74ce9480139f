package lti

import (
	"context"
	"strings"
	"testing"
	"time"
)

// staticKeys is a network-free KeySet for fuzzing.
type staticKeys map[string]*PublicKey

func (s staticKeys) Key(_ context.Context, _, kid string) (*PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, NewError(CodeUnknownKID, "", nil)
}

func FuzzValidate(f *testing.F) {
	loadKeys(f)
	valid := sign(f, baseClaims())
	f.Add(valid)
	f.Add(sign(f, deepLinkClaims()))
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.")
	f.Add(valid[:len(valid)/2])
	f.Add(strings.Replace(valid, ".", "..", 1))
	f.Add(b64json(map[string]any{"alg": "RS256", "kid": "k1"}) + "." + b64json(baseClaims()) + ".AAAA")

	v := &Validator{
		Keys:   staticKeys{"k1": {KID: "k1", Key: &rsaKey1.PublicKey}, "ec1": {KID: "ec1", Alg: "ES256", Key: &ecKey.PublicKey}},
		Nonces: nopNonces{},
		Now:    func() time.Time { return testNow },
	}
	want := testExpect()
	want.JWKSURL = "https://lms.example.edu/jwks"
	f.Fuzz(func(t *testing.T, tok string) {
		m, err := v.Validate(context.Background(), tok, want)
		if (m == nil) == (err == nil) {
			t.Fatalf("Validate returned message %v and error %v", m, err)
		}
	})
}

// FuzzDecodeClaims fuzzes the claim decoder directly (the signature check
// otherwise keeps fuzzed payloads from reaching it).
func FuzzDecodeClaims(f *testing.F) {
	f.Add(b64json(baseClaims()))
	f.Add(b64json(deepLinkClaims()))
	f.Add(b64json(map[string]any{ClaimCustom: map[string]any{"a": []any{1, nil, "x"}}, "exp": 1.5e9}))
	f.Add("e30")
	f.Fuzz(func(t *testing.T, seg string) {
		m, err := decodeClaims(seg)
		if err == nil {
			_ = checkRequired(m, testExpect())
			_ = m.Roles.IsTeacherLike()
			_, _ = m.Custom("a")
		}
	})
}

// BenchmarkValidate measures a launch validation with a warm key cache: one
// RSA-2048 verification plus claim decoding.
func BenchmarkValidate(b *testing.B) {
	v, _, want := newTestValidator(b, nopNonces{})
	tok := sign(b, baseClaims())
	ctx := context.Background()
	if _, err := v.Validate(ctx, tok, want); err != nil { // warm the cache
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Validate(ctx, tok, want); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateParallel shows throughput over all cores.
func BenchmarkValidateParallel(b *testing.B) {
	v, _, want := newTestValidator(b, nopNonces{})
	tok := sign(b, baseClaims())
	ctx := context.Background()
	if _, err := v.Validate(ctx, tok, want); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Validate(ctx, tok, want); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRSAVerify is the floor: one RSA-2048 PKCS#1 v1.5 verification.
func BenchmarkRSAVerify(b *testing.B) {
	loadKeys(b)
	tok := sign(b, baseClaims())
	dot := strings.LastIndexByte(tok, '.')
	sig, _ := base64RawURL.DecodeString(tok[dot+1:])
	key := &PublicKey{KID: "k1", Key: &rsaKey1.PublicKey}
	b.ReportAllocs()
	for b.Loop() {
		if err := verify("RS256", cryptoSHA256, key, tok[:dot], sig, "id_token"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeClaims is claim decoding alone.
func BenchmarkDecodeClaims(b *testing.B) {
	seg := b64json(baseClaims())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeClaims(seg); err != nil {
			b.Fatal(err)
		}
	}
}
