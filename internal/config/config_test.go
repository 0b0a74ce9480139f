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
		{"token age too short", []string{"--max-token-age", "10s"}, "--max-token-age"},
		{"token age", []string{"--max-token-age", "5m"}, ""},
		{"trusted proxies", []string{"--trusted-proxies", "127.0.0.1, 10.0.0.0/8,::1"}, ""},
		{"bad trusted proxy", []string{"--trusted-proxies", "proxy.example"}, "--trusted-proxies"},
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
