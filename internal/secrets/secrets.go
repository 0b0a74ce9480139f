// Package secrets encrypts the secrets ltipub keeps in its database (the tool's private keys, LTI 1.1 shared
// secrets, cached service tokens) with a key that lives outside it, so that a copy of the database alone reveals
// none of them. It uses AES-256-GCM from the standard library.
//
// A sealed value is text, so it fits the TEXT columns the plaintext used: "enc:v1:" + the key's id + ":" +
// base64url(nonce ‖ ciphertext ‖ tag). The key id (the first 8 bytes of the key's SHA-256, in hex) names which key
// sealed a value, so that a wrong key is reported as such rather than as corrupt data. Each value is bound to its
// purpose (the column it belongs to) as additional data, so a sealed value moved to another column does not open.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a key: AES-256.
const KeySize = 32

const prefix = "enc:v1:"

// ErrWrongKey means a value was sealed with another key than the Box holds.
var ErrWrongKey = errors.New("sealed with another secrets key")

// Box seals and opens values with one key.
type Box struct {
	aead cipher.AEAD
	id   string
}

// New makes a Box from a KeySize-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("a secrets key is %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key)
	return &Box{aead: aead, id: hex.EncodeToString(sum[:8])}, nil
}

// ID names the key (not secret: a digest of it), as sealed values carry it.
func (b *Box) ID() string { return b.id }

// IsSealed reports whether v is a sealed value (of any key) rather than plaintext.
func IsSealed(v string) bool { return strings.HasPrefix(v, prefix) }

// KeyID is the id of the key that sealed v, or "" when v is not sealed.
func KeyID(v string) string {
	rest, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ":")
	return id
}

// Seal encrypts plaintext for purpose. The empty string stays empty (nothing to hide, and columns use it for
// "none").
func (b *Box) Seal(purpose, plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(purpose))
	return prefix + b.id + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value sealed for purpose. A value that is not sealed is returned as it is: rows written before
// encryption existed, until start-up has sealed them. A value sealed with another key gives an error wrapping
// ErrWrongKey.
func (b *Box) Open(purpose, v string) (string, error) {
	rest, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return v, nil
	}
	id, data, ok := strings.Cut(rest, ":")
	if !ok {
		return "", errors.New("a sealed value is malformed (no key id)")
	}
	if id != b.id {
		return "", fmt.Errorf("%w: the value names key %s, the key given is %s", ErrWrongKey, id, b.id)
	}
	raw, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", errors.New("a sealed value is malformed (bad encoding)")
	}
	n := b.aead.NonceSize()
	pt, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	if err != nil {
		return "", fmt.Errorf("a sealed %s value does not decrypt: it was altered, or moved from another column", purpose)
	}
	return string(pt), nil
}

// NewKey makes a random key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return k
}

// EncodeKey is the text a key file holds: the key in standard base64 and a newline.
func EncodeKey(k []byte) string { return base64.StdEncoding.EncodeToString(k) + "\n" }

// ReadKeyFile reads a key file (EncodeKey's text; `openssl rand -base64 32` makes one too).
func ReadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != KeySize {
		return nil, fmt.Errorf("the secrets key file %s does not hold a %d-byte key in base64 (make one with `openssl rand -base64 32`)", path, KeySize)
	}
	return k, nil
}

// WriteKeyFile writes a new key file readable by its owner only; it never overwrites an existing file.
func WriteKeyFile(path string, k []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("the secrets key file %s exists already; it was not replaced", path)
		}
		return err
	}
	if _, err := f.WriteString(EncodeKey(k)); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
