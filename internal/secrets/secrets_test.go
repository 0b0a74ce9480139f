package secrets

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	a, _ := New(NewKey())
	b, _ := New(NewKey())
	sealed, err := a.Seal("tool_keys.private_pem", "-----BEGIN PRIVATE KEY-----")
	if err != nil || !IsSealed(sealed) || strings.Contains(sealed, "PRIVATE") || KeyID(sealed) != a.ID() {
		t.Fatalf("sealed %q, %v", sealed, err)
	}
	if again, _ := a.Seal("tool_keys.private_pem", "-----BEGIN PRIVATE KEY-----"); again == sealed {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	if pt, err := a.Open("tool_keys.private_pem", sealed); err != nil || pt != "-----BEGIN PRIVATE KEY-----" {
		t.Fatalf("open: %q, %v", pt, err)
	}
	if _, err := b.Open("tool_keys.private_pem", sealed); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("another key: %v, want ErrWrongKey", err)
	}
	if _, err := a.Open("service_tokens.access_token", sealed); err == nil {
		t.Fatal("a value opened under another purpose")
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := a.Open("tool_keys.private_pem", tampered); err == nil {
		t.Fatal("a tampered value opened")
	}
	if pt, err := a.Open("x", "plain"); err != nil || pt != "plain" {
		t.Fatalf("plaintext passes through: %q, %v", pt, err)
	}
	if s, _ := a.Seal("x", ""); s != "" {
		t.Fatalf("empty sealed to %q", s)
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secrets.key")
	k := NewKey()
	if err := WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	if err := WriteKeyFile(path, NewKey()); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("overwrite: %v", err)
	}
	got, err := ReadKeyFile(path)
	if err != nil || string(got) != string(k) {
		t.Fatalf("read back: %v", err)
	}
}
