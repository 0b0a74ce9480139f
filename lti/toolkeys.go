package lti

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
)

// SigningKey is one of the tool's RSA key pairs. KID is published in the
// tool's JWKS and put in the header of every JWT signed with the key.
type SigningKey struct {
	KID     string
	Private *rsa.PrivateKey
}

// LogValue logs only the key ID, never key material.
func (k SigningKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kid", k.KID))
}

// String hides the key material from fmt's %v.
func (k SigningKey) String() string { return "SigningKey(kid=" + k.KID + ")" }

// Public returns the public half, for PublicJWKS.
func (k SigningKey) Public() PublicKey {
	return PublicKey{KID: k.KID, Alg: "RS256", Key: &k.Private.PublicKey}
}

// GenerateSigningKey makes a new RSA-2048 key whose KID is its RFC 7638
// thumbprint: stable, opaque, and never reused for another key.
func GenerateSigningKey() (SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return SigningKey{}, fmt.Errorf("generate RSA key: %w", err)
	}
	return SigningKey{KID: Thumbprint(&priv.PublicKey), Private: priv}, nil
}

// Thumbprint returns the RFC 7638 SHA-256 JWK thumbprint of pub, base64url.
func Thumbprint(pub *rsa.PublicKey) string {
	// Members in lexicographic order, no whitespace (RFC 7638 §3.2).
	j := `{"e":"` + b64(big.NewInt(int64(pub.E)).Bytes()) + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(j))
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

type jwkJSON struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// PublicJWKS renders the tool's public key set:
// {"keys":[{"kty":"RSA","kid":…,"use":"sig","alg":"RS256","n":…,"e":…}]}.
// Only RSA keys are accepted; pass the current key and any key being
// introduced or retired (see the rotation notes in the LTI digest §9).
func PublicJWKS(keys ...PublicKey) ([]byte, error) {
	out := struct {
		Keys []jwkJSON `json:"keys"`
	}{Keys: make([]jwkJSON, 0, len(keys))}
	for _, k := range keys {
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || pub == nil {
			return nil, fmt.Errorf("lti: PublicJWKS: key %q is %T, want *rsa.PublicKey", k.KID, k.Key)
		}
		if k.KID == "" {
			return nil, errors.New("lti: PublicJWKS: key without kid")
		}
		out.Keys = append(out.Keys, jwkJSON{
			Kty: "RSA", Kid: k.KID, Use: "sig", Alg: "RS256",
			N: b64(pub.N.Bytes()), E: b64(big.NewInt(int64(pub.E)).Bytes()),
		})
	}
	return json.Marshal(out)
}

// Sign returns claims as a compact RS256 JWT with kid and typ "JWT" in the
// header. claims is marshalled with encoding/json.
func Sign(key SigningKey, claims any) (string, error) {
	if key.Private == nil || key.KID == "" {
		return "", errors.New("lti: Sign: signing key needs KID and Private")
	}
	hdr, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{"RS256", key.KID, "JWT"})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("lti: Sign: marshal claims: %w", err)
	}
	input := b64(hdr) + "." + b64(payload)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, key.Private, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("lti: Sign: %w", err)
	}
	return input + "." + b64(sig), nil
}

// EncodePrivateKeyPEM encodes key as a PKCS #8 "PRIVATE KEY" PEM block.
func EncodePrivateKeyPEM(key *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// DecodePrivateKeyPEM decodes a PKCS #8 or PKCS #1 RSA private key.
func DecodePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("decode private key: no PEM block")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("decode private key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("decode private key: %T is not an RSA key", k)
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("decode private key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("decode private key: unexpected PEM type %q", block.Type)
}

// EncodePublicKeyPEM encodes pub as a PKIX "PUBLIC KEY" PEM block, the form
// platforms such as Moodle accept when a tool has no JWKS URL.
func EncodePublicKeyPEM(pub *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
