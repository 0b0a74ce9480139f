package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"defaults", nil, ""},
		{"https behind a proxy", []string{"--base-url", "https://tool.example.edu/"}, ""},
		{"bad addr", []string{"--addr", "8080"}, "--addr"},
		{"relative base url", []string{"--base-url", "tool.example.edu"}, "--base-url"},
		{"base url with query", []string{"--base-url", "https://t.example.edu/?a=1"}, "query"},
		{"bad log level", []string{"--log-level", "loud"}, "--log-level"},
		{"empty db", []string{"--db", ""}, "--db"},
		{"port out of range", []string{"--addr", ":99999"}, "0 to 65535"},
		{"named port", []string{"--addr", "127.0.0.1:http"}, "must be a number"},
		{"unknown db scheme", []string{"--db", "mysql://x"}, `does not speak "mysql"`},
		{"misspelt postgres", []string{"--db", "postgress://h/db"}, `does not speak "postgress"`},
		{"scheme without slashes", []string{"--db", "postgres:h/db"}, `scheme "postgres"`},
		{"postgres url", []string{"--db", "postgresql://u@127.0.0.1/db"}, ""},
		{"sqlite file url", []string{"--db", "file:/tmp/x.db"}, ""},
		{"max unenrol with a percent sign", []string{"--member-sync-max-unenrol", "30%"}, ""},
		{"max unenrol off", []string{"--member-sync-max-unenrol", "100"}, ""},
		{"token age too short", []string{"--max-token-age", "10s"}, "--max-token-age"},
		{"token age", []string{"--max-token-age", "5m"}, ""},
		{"trusted proxies", []string{"--trusted-proxies", "127.0.0.1, 10.0.0.0/8,::1"}, ""},
		{"bad trusted proxy", []string{"--trusted-proxies", "proxy.example"}, "--trusted-proxies"},
		{"memory limit", []string{"--memory-limit", "256MiB"}, ""},
		{"no memory limit", []string{"--memory-limit", "off"}, ""},
		{"memory limit without a unit is bytes, too few", []string{"--memory-limit", "64"}, "at least 8MiB"},
		{"memory limit in words", []string{"--memory-limit", "lots"}, "--memory-limit"},
		{"memory limit in MB", []string{"--memory-limit", "64MB"}, "--memory-limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			c.AddServeFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := c.Validate()
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate = %v, want an error about %s", err, tt.wantErr)
			}
		})
	}
}

func TestEnvFallback(t *testing.T) {
	t.Setenv("LTIPUB_ADDR", "127.0.0.1:9999")
	t.Setenv("LTIPUB_ALLOW_PRIVATE_URLS", "1")
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.AddServeFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || !c.AllowPrivateURLs {
		t.Fatalf("env not used: %+v", c)
	}
	if err := fs.Parse([]string{"--addr", "127.0.0.1:7000"}); err != nil || c.Addr != "127.0.0.1:7000" {
		t.Fatalf("flag should win over env: %+v", c)
	}
}

func TestMetricsSettings(t *testing.T) {
	dir := t.TempDir()
	good, short := filepath.Join(dir, "token"), filepath.Join(dir, "short")
	_ = os.WriteFile(good, []byte("  0123456789abcdef0123  \nignored\n"), 0o600)
	_ = os.WriteFile(short, []byte("abc\n"), 0o600)
	tests := []struct {
		args    []string
		wantErr string
		token   string
	}{
		{[]string{"--metrics-addr", "127.0.0.1:9090"}, "", ""},
		{[]string{"--metrics-addr", "9090"}, "--metrics-addr", ""},
		{[]string{"--metrics-addr", "127.0.0.1:8080"}, "must differ from --addr", ""},
		{[]string{"--metrics-token-file", good}, "", "0123456789abcdef0123"},
		{[]string{"--metrics-token-file", short}, "at least 16 characters", ""},
		{[]string{"--metrics-token-file", filepath.Join(dir, "missing")}, "no such file", ""},
	}
	for _, tt := range tests {
		var c Config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c.AddServeFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		err := c.Validate()
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%v: Validate = %v, want %q", tt.args, err, tt.wantErr)
		}
		if c.MetricsToken != tt.token {
			t.Errorf("%v: token %q, want %q", tt.args, c.MetricsToken, tt.token)
		}
	}
}

func TestEmptyEnvIsUnset(t *testing.T) {
	t.Setenv("LTIPUB_BASE_URL", "")
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.AddServeFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != DefaultBaseURL || c.Validate() != nil {
		t.Fatalf("LTIPUB_BASE_URL= gave %q", c.BaseURL)
	}
}

func TestMemberSyncMaxUnenrol(t *testing.T) {
	parse := func(args ...string) (Config, error) {
		var c Config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(new(strings.Builder))
		c.AddServeFlags(fs)
		if err := fs.Parse(args); err != nil {
			return c, err
		}
		return c, c.Validate()
	}
	if c, err := parse(); err != nil || c.MemberSyncMaxUnenrol != DefaultMemberSyncMaxUnenrol {
		t.Fatalf("default: %v %v", c.MemberSyncMaxUnenrol, err)
	}
	if c, err := parse("--member-sync-max-unenrol", "25%"); err != nil || c.MemberSyncMaxUnenrol != 25 {
		t.Fatalf("25%%: %v %v", c.MemberSyncMaxUnenrol, err)
	}
	for _, bad := range []string{"0", "150", "half"} {
		if _, err := parse("--member-sync-max-unenrol", bad); err == nil || !strings.Contains(err.Error(), "between 1 and 100") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	t.Setenv("LTIPUB_MEMBER_SYNC_MAX_UNENROL", "10")
	if c, err := parse(); err != nil || c.MemberSyncMaxUnenrol != 10 {
		t.Fatalf("env: %v %v", c.MemberSyncMaxUnenrol, err)
	}
	t.Setenv("LTIPUB_MEMBER_SYNC_MAX_UNENROL", "lots")
	if _, err := parse(); err == nil || !strings.Contains(err.Error(), "LTIPUB_MEMBER_SYNC_MAX_UNENROL") {
		t.Fatalf("bad env: %v", err)
	}
}

// TestMemoryLimit: serve has a soft memory limit by default; LTIPUB_MEMORY_LIMIT, else Go's own GOMEMLIMIT,
// changes it, and the flag wins over both.
func TestMemoryLimit(t *testing.T) {
	parse := func(t *testing.T, args ...string) int64 {
		t.Helper()
		var c Config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c.AddServeFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		return c.MemoryLimitBytes
	}
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("LTIPUB_MEMORY_LIMIT", "")
	if got := parse(t); got != 32<<20 {
		t.Errorf("default limit %d, want 32 MiB", got)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got := parse(t); got != 1<<30 {
		t.Errorf("with GOMEMLIMIT=1GiB: %d", got)
	}
	t.Setenv("LTIPUB_MEMORY_LIMIT", "off")
	if got := parse(t); got != 0 {
		t.Errorf("with LTIPUB_MEMORY_LIMIT=off: %d, want no limit", got)
	}
	if got := parse(t, "--memory-limit", "100MiB"); got != 100<<20 {
		t.Errorf("--memory-limit 100MiB: %d", got)
	}
}
