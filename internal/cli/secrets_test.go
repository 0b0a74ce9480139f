package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretsCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "keys", "secrets.key")
	if out, errOut, code := run(t, "secrets", "new-key", "--file", key); code != 0 || !strings.Contains(out, key) {
		t.Fatalf("new-key: %d %s %s", code, out, errOut)
	}
	if _, errOut, code := run(t, "secrets", "new-key", "--file", key); code == 0 || !strings.Contains(errOut, "exists already") {
		t.Fatalf("new-key over an existing file: %d %s", code, errOut)
	}
	db := filepath.Join(dir, "ltipub.db")
	if _, errOut, code := run(t, "migrate", "--db", db); code != 0 {
		t.Fatalf("migrate: %d %s", code, errOut)
	}
	if _, errOut, code := run(t, "keys", "list", "--db", db); code != 0 {
		t.Fatalf("keys list: %d %s", code, errOut)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "secrets.key"))
	out, errOut, code := run(t, "secrets", "rotate-key", "--db", db)
	if code != 0 || !strings.Contains(out, "re-encrypted 1 secrets") {
		t.Fatalf("rotate-key: %d %s %s", code, out, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "secrets.key"))
	if len(before) == 0 || string(before) == string(after) {
		t.Fatal("rotate-key did not replace the default key file")
	}
	if _, errOut, code := run(t, "keys", "list", "--db", db); code != 0 {
		t.Fatalf("keys list after rotation: %d %s", code, errOut)
	}
}
