package config

import (
	"flag"
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
		{"max unenrol with a percent sign", []string{"--member-sync-max-unenrol", "30%"}, ""},
		{"max unenrol off", []string{"--member-sync-max-unenrol", "100"}, ""},
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
