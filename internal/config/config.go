// Package config reads ltipub's settings from flags, with environment variables as fallbacks, and checks them.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything the server needs to start.
type Config struct {
	Addr             string
	BaseURL          string
	DB               string
	AllowPrivateURLs bool
	LogLevel         string
	LogFormat        string
	ClockSkew        time.Duration
	KeyOverlap       time.Duration
	// GradeSyncInterval and MemberSyncInterval space the periodic grade and member syncs (0: no periodic run).
	GradeSyncInterval  time.Duration
	MemberSyncInterval time.Duration
	// JobPollInterval is how often an idle instance looks for queued jobs (zero: 1 s). Not a flag: tests shorten it.
	JobPollInterval time.Duration
	// JWKSMinRefetch is the least time between two fetches of a platform's key set (zero: the lti default,
	// 30 s). Not a flag: tests shorten it to see a platform's key rotation quickly.
	JWKSMinRefetch time.Duration
	// MaxTokenAge bounds how long ago a launch's id_token was issued (zero: lti.DefaultMaxTokenAge, 10 min).
	MaxTokenAge time.Duration
	// TrustedProxies lists, comma-separated, the reverse proxies (addresses or CIDR prefixes) whose
	// X-Forwarded-For names the client; Validate parses it into Proxies.
	TrustedProxies string
	Proxies        []netip.Prefix
	// SecretsKeyFile holds the key that encrypts secrets in the database (empty: see app.SecretsKeyPath).
	SecretsKeyFile string
}

// Defaults for a newcomer's machine.
const (
	DefaultAddr    = "127.0.0.1:8080"
	DefaultBaseURL = "http://localhost:8080"
	DefaultDB      = "./ltipub-data/ltipub.db"
)

// env looks a setting up in the environment, returning def when unset.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	if v, ok := os.LookupEnv(name); ok {
		b, err := strconv.ParseBool(v)
		if err == nil {
			return b
		}
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// AddDBFlag registers --db on fs: every subcommand that opens the database takes it.
func AddDBFlag(fs *flag.FlagSet, dst *string) {
	fs.StringVar(dst, "db", env("LTIPUB_DB", DefaultDB),
		"database: a SQLite file path (its folder is created) or a postgres:// URL `DSN` (env LTIPUB_DB)")
}

// AddBaseURLFlag registers --base-url on fs.
func AddBaseURLFlag(fs *flag.FlagSet, dst *string) {
	fs.StringVar(dst, "base-url", env("LTIPUB_BASE_URL", DefaultBaseURL),
		"public `URL` every absolute link and LTI URL is built from; use the https URL your reverse proxy serves (env LTIPUB_BASE_URL)")
}

// AddSecretsKeyFileFlag registers --secrets-key-file on fs: every subcommand that opens the database takes it.
func AddSecretsKeyFileFlag(fs *flag.FlagSet, dst *string) {
	fs.StringVar(dst, "secrets-key-file", env("LTIPUB_SECRETS_KEY_FILE", ""),
		"`file` holding the key that encrypts private keys, LTI 1.1 secrets and service tokens in the database; default: "+
			"secrets.key beside a SQLite database (made on first start), required for PostgreSQL (env LTIPUB_SECRETS_KEY_FILE)")
}

// AddServeFlags registers the server's flags on fs.
func (c *Config) AddServeFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("LTIPUB_ADDR", DefaultAddr), "`host:port` to listen on (env LTIPUB_ADDR)")
	AddBaseURLFlag(fs, &c.BaseURL)
	AddDBFlag(fs, &c.DB)
	fs.BoolVar(&c.AllowPrivateURLs, "allow-private-urls", envBool("LTIPUB_ALLOW_PRIVATE_URLS", false),
		"allow outgoing requests (JWKS, token, services, registration) to loopback and private addresses; for development and tests only (env LTIPUB_ALLOW_PRIVATE_URLS=1)")
	fs.StringVar(&c.LogLevel, "log-level", env("LTIPUB_LOG_LEVEL", "info"), "log `level`: debug, info, warn or error (env LTIPUB_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("LTIPUB_LOG_FORMAT", "text"), "log `format`: text or json (env LTIPUB_LOG_FORMAT)")
	fs.DurationVar(&c.ClockSkew, "clock-skew", envDuration("LTIPUB_CLOCK_SKEW", 60*time.Second),
		"leeway for the platforms' clocks when checking id_token times (env LTIPUB_CLOCK_SKEW)")
	fs.DurationVar(&c.GradeSyncInterval, "grade-sync-interval", envDuration("LTIPUB_GRADE_SYNC_INTERVAL", 30*time.Minute),
		"how often the periodic grade sync sends what changed to the platforms; 0 turns it off (grade changes are still sent within seconds) (env LTIPUB_GRADE_SYNC_INTERVAL)")
	fs.DurationVar(&c.MemberSyncInterval, "member-sync-interval", envDuration("LTIPUB_MEMBER_SYNC_INTERVAL", 30*time.Minute),
		"how often member sync reads the platforms' rosters; 0 turns it off (env LTIPUB_MEMBER_SYNC_INTERVAL)")
	AddSecretsKeyFileFlag(fs, &c.SecretsKeyFile)
	fs.DurationVar(&c.MaxTokenAge, "max-token-age", envDuration("LTIPUB_MAX_TOKEN_AGE", 10*time.Minute),
		"refuse launches whose id_token was issued longer ago than this (beyond --clock-skew) (env LTIPUB_MAX_TOKEN_AGE)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("LTIPUB_TRUSTED_PROXIES", ""),
		"comma-separated `addresses or CIDR prefixes` of reverse proxies whose X-Forwarded-For names the client, for sign-in throttling "+
			"(for example 127.0.0.1,10.0.0.0/8) (env LTIPUB_TRUSTED_PROXIES)")
	fs.DurationVar(&c.KeyOverlap, "key-overlap", envDuration("LTIPUB_KEY_OVERLAP", 72*time.Hour),
		"how long a rotated tool key stays published (env LTIPUB_KEY_OVERLAP)")
}

// Validate checks the configuration as a table of rules, each with a message that says what to change.
func (c *Config) Validate() error {
	base, baseErr := url.Parse(c.BaseURL)
	proxies, proxyErr := parseProxies(c.TrustedProxies)
	_, _, addrErr := net.SplitHostPort(c.Addr)
	checks := []struct {
		bad bool
		msg string
	}{
		{addrErr != nil, fmt.Sprintf("--addr %q is not host:port (for example 127.0.0.1:8080)", c.Addr)},
		{baseErr != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https"),
			fmt.Sprintf("--base-url %q must be an absolute http or https URL such as https://tool.example.edu", c.BaseURL)},
		{baseErr == nil && (base.RawQuery != "" || base.Fragment != ""), fmt.Sprintf("--base-url %q must not have a query or fragment", c.BaseURL)},
		{c.DB == "", "--db must name a SQLite file or a postgres:// URL"},
		{!oneOf(c.LogLevel, "debug", "info", "warn", "error"), fmt.Sprintf("--log-level %q must be debug, info, warn or error", c.LogLevel)},
		{!oneOf(c.LogFormat, "text", "json"), fmt.Sprintf("--log-format %q must be text or json", c.LogFormat)},
		{c.ClockSkew < 0 || c.ClockSkew > 10*time.Minute, "--clock-skew must be between 0s and 10m"},
		{c.KeyOverlap < 0, "--key-overlap must not be negative"},
		{c.MaxTokenAge < 0 || (c.MaxTokenAge > 0 && c.MaxTokenAge < time.Minute) || c.MaxTokenAge > 24*time.Hour,
			"--max-token-age must be between 1m and 24h (platforms sign the id_token just before the browser brings it)"},
		{proxyErr != nil, fmt.Sprintf("--trusted-proxies: %v", proxyErr)},
		{c.GradeSyncInterval < 0 || (c.GradeSyncInterval > 0 && c.GradeSyncInterval < time.Second),
			"--grade-sync-interval must be 0 (off) or at least 1s"},
		{c.MemberSyncInterval < 0 || (c.MemberSyncInterval > 0 && c.MemberSyncInterval < time.Second),
			"--member-sync-interval must be 0 (off) or at least 1s"},
	}
	var errs []error
	for _, ch := range checks {
		if ch.bad {
			errs = append(errs, errors.New(ch.msg))
		}
	}
	if len(errs) == 0 {
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
		c.Proxies = proxies
	}
	return errors.Join(errs...)
}

// Development reports whether the base URL is plain http, where cookies cannot be Secure.
func (c *Config) Development() bool { return strings.HasPrefix(c.BaseURL, "http://") }

func oneOf(v string, options ...string) bool {
	for _, o := range options {
		if v == o {
			return true
		}
	}
	return false
}

// parseProxies reads a comma-separated list of addresses and CIDR prefixes.
func parseProxies(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR prefix such as 10.0.0.0/8", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
