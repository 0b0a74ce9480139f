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

	"github.com/spf13/pflag"
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
	// LaunchDetailRetention is how long the launch log keeps what came in with a launch, for the inspector.
	LaunchDetailRetention time.Duration
	// GradeSyncInterval and MemberSyncInterval space the periodic grade and member syncs (0: no periodic run).
	GradeSyncInterval  time.Duration
	MemberSyncInterval time.Duration
	// MemberSyncMaxUnenrol is the largest share of a link's members, in percent, that one member sync may
	// unenrol before it holds back for an admin's confirmation (0: the default, 50; 100: never hold).
	MemberSyncMaxUnenrol float64
	// JobPollInterval is how often an idle instance looks for queued jobs (zero: 1 s). Not a flag: tests shorten it.
	JobPollInterval time.Duration
	// JWKSMinRefetch is the least time between two fetches of a platform's key set (zero: the lti default,
	// 30 s). Not a flag: tests shorten it to see a platform's key rotation quickly.
	JWKSMinRefetch time.Duration
	// CacheTTL is how long an instance keeps registrations and published resources it read (zero: 3 s), and the
	// site settings (zero: 2 s); a change made elsewhere applies within it. Not a flag: the statement-budget test
	// lengthens it, so that a launch slowed by a busy machine does not see a cache expire between the warm-up and
	// the launch it counts (the settings' 2 s once put a 13th statement into a counted launch).
	CacheTTL time.Duration

	// MetricsAddr, when set, is a second listener with /metrics and /debug/pprof/ (keep it private).
	MetricsAddr string
	// MetricsTokenFile, when set, serves /metrics on the main listener to requests bearing the token in it;
	// Validate reads it into MetricsToken (tests may set MetricsToken directly).
	MetricsTokenFile string
	MetricsToken     string

	// MaxTokenAge bounds how long ago a launch's id_token was issued (zero: lti.DefaultMaxTokenAge, 10 min).
	MaxTokenAge time.Duration
	// TrustedProxies lists, comma-separated, the reverse proxies (addresses or CIDR prefixes) whose
	// X-Forwarded-For names the client; Validate parses it into Proxies.
	TrustedProxies string
	Proxies        []netip.Prefix
	// SecretsKeyFile holds the key that encrypts secrets in the database (empty: see app.SecretsKeyPath).
	SecretsKeyFile string
	// MemoryLimit is the Go runtime's soft memory limit for serve ("off", or a size such as 32MiB); Validate
	// parses it into MemoryLimitBytes (0: no limit, as for ""). The serve command applies it to the process.
	MemoryLimit      string
	MemoryLimitBytes int64
}

// DefaultMemoryLimit is serve's soft memory limit when neither --memory-limit, LTIPUB_MEMORY_LIMIT nor Go's own
// GOMEMLIMIT says otherwise. Without one, the collector lets the heap grow to twice what is live before it runs,
// and ltipub's resident size under a burst of launches grew from 55 to about 75 MB; with 32 MiB it stays under
// 60 MB. It is a soft limit: a larger live heap (a big roster page) makes the collector run more often, it never
// makes an allocation fail. See docs/performance.md for what it costs.
const DefaultMemoryLimit = "32MiB"

// Defaults for a newcomer's machine.
const (
	DefaultAddr    = "127.0.0.1:8080"
	DefaultBaseURL = "http://localhost:8080"
	DefaultDB      = "./ltipub-data/ltipub.db"
)

// env looks a setting up in the environment, returning def when unset or empty (LTIPUB_BASE_URL= in a unit
// file or a shell means "not set", not "the empty URL").
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
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

// FlagSet is what registering a flag needs: both the standard library's flag.FlagSet and spf13/pflag's (the CLI's)
// have these methods.
type FlagSet interface {
	StringVar(p *string, name, value, usage string)
	BoolVar(p *bool, name string, value bool, usage string)
	DurationVar(p *time.Duration, name string, value time.Duration, usage string)
}

// AddDBFlag registers --db on fs: every subcommand that opens the database takes it.
func AddDBFlag(fs FlagSet, dst *string) {
	fs.StringVar(dst, "db", env("LTIPUB_DB", DefaultDB),
		"database: a SQLite file path or a postgres:// URL `DSN`; only serve and migrate create it (env LTIPUB_DB)")
}

// AddBaseURLFlag registers --base-url on fs.
func AddBaseURLFlag(fs FlagSet, dst *string) {
	fs.StringVar(dst, "base-url", env("LTIPUB_BASE_URL", DefaultBaseURL),
		"public `URL` every absolute link and LTI URL is built from; use the https URL your reverse proxy serves (env LTIPUB_BASE_URL)")
}

// DefaultMemberSyncMaxUnenrol is the default of --member-sync-max-unenrol, in percent.
const DefaultMemberSyncMaxUnenrol = 50

// AddMemberSyncFlags registers --member-sync-max-unenrol on fs (serve, and sync members, which runs it too).
func AddMemberSyncFlags(fs FlagSet, dst *float64) {
	*dst = DefaultMemberSyncMaxUnenrol
	if v, ok := os.LookupEnv("LTIPUB_MEMBER_SYNC_MAX_UNENROL"); ok {
		f, err := parsePercent(v)
		if err != nil {
			f = -1 // Validate reports it
		}
		*dst = f
	}
	usage := "the largest share of a resource link's members one member sync may unenrol, " +
		"in `percent` (1-100); a run that would unenrol more holds back until an admin confirms on the Sync page, or " +
		"`ltipub sync members --force` (platforms return empty or truncated rosters during outages); 100 never holds (env LTIPUB_MEMBER_SYNC_MAX_UNENROL)"
	// The standard flag package (tests) and pflag (the CLI) take a value each in their own type.
	switch fs := fs.(type) {
	case *flag.FlagSet:
		fs.Var((*percent)(dst), "member-sync-max-unenrol", usage)
	case *pflag.FlagSet:
		fs.Var((*percent)(dst), "member-sync-max-unenrol", usage)
	}
}

// percent is a flag value such as "50" or "50%".
type percent float64

func (p *percent) String() string { return strconv.FormatFloat(float64(*p), 'f', -1, 64) }

// Type names the value in pflag's help.
func (p *percent) Type() string { return "percent" }

func (p *percent) Set(v string) error {
	f, err := parsePercent(v)
	if err != nil {
		return err
	}
	*p = percent(f)
	return nil
}

func parsePercent(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), "%"), 64)
	if err != nil || f <= 0 || f > 100 {
		return 0, fmt.Errorf("%q is not a percentage between 1 and 100 (for example 50 or 50%%)", v)
	}
	return f, nil
}

// AddSecretsKeyFileFlag registers --secrets-key-file on fs: every subcommand that opens the database takes it.
func AddSecretsKeyFileFlag(fs FlagSet, dst *string) {
	fs.StringVar(dst, "secrets-key-file", env("LTIPUB_SECRETS_KEY_FILE", ""),
		"`file` holding the key that encrypts private keys, LTI 1.1 secrets and service tokens in the database; default: "+
			"secrets.key beside a SQLite database (made on first start), required for PostgreSQL (env LTIPUB_SECRETS_KEY_FILE)")
}

// AddServeFlags registers the server's flags on fs.
func (c *Config) AddServeFlags(fs FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("LTIPUB_ADDR", DefaultAddr), "`host:port` to listen on (env LTIPUB_ADDR)")
	AddBaseURLFlag(fs, &c.BaseURL)
	AddDBFlag(fs, &c.DB)
	fs.BoolVar(&c.AllowPrivateURLs, "allow-private-urls", envBool("LTIPUB_ALLOW_PRIVATE_URLS", false),
		"allow outgoing requests (JWKS, token, services, registration) to loopback and private addresses; for development and tests only (env LTIPUB_ALLOW_PRIVATE_URLS=1)")
	fs.StringVar(&c.LogLevel, "log-level", env("LTIPUB_LOG_LEVEL", "info"), "log `level`: debug, info, warn or error (env LTIPUB_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("LTIPUB_LOG_FORMAT", "text"), "log `format`: text or json (env LTIPUB_LOG_FORMAT)")
	fs.DurationVar(&c.ClockSkew, "clock-skew", envDuration("LTIPUB_CLOCK_SKEW", 60*time.Second),
		"leeway for the platforms' clocks when checking id_token times (env LTIPUB_CLOCK_SKEW)")
	fs.DurationVar(&c.LaunchDetailRetention, "launch-detail-retention", envDuration("LTIPUB_LAUNCH_DETAIL_RETENTION", 14*24*time.Hour),
		"how long the launch inspector keeps what came in with each launch (decoded claims, personal data) (env LTIPUB_LAUNCH_DETAIL_RETENTION)")
	fs.DurationVar(&c.GradeSyncInterval, "grade-sync-interval", envDuration("LTIPUB_GRADE_SYNC_INTERVAL", 30*time.Minute),
		"how often the periodic grade sync sends what changed to the platforms; 0 turns it off (grade changes are still sent within seconds) (env LTIPUB_GRADE_SYNC_INTERVAL)")
	fs.DurationVar(&c.MemberSyncInterval, "member-sync-interval", envDuration("LTIPUB_MEMBER_SYNC_INTERVAL", 30*time.Minute),
		"how often member sync reads the platforms' rosters; 0 turns it off (env LTIPUB_MEMBER_SYNC_INTERVAL)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("LTIPUB_METRICS_ADDR", ""),
		"serve /metrics and /debug/pprof/ on a second listener at `host:port`, for Prometheus on a private network (env LTIPUB_METRICS_ADDR)")
	fs.StringVar(&c.MetricsTokenFile, "metrics-token-file", env("LTIPUB_METRICS_TOKEN_FILE", ""),
		"serve /metrics on the main listener to requests with \"Authorization: Bearer <token>\", the token being this `file`'s first line (env LTIPUB_METRICS_TOKEN_FILE)")
	AddMemberSyncFlags(fs, &c.MemberSyncMaxUnenrol)
	AddSecretsKeyFileFlag(fs, &c.SecretsKeyFile)
	fs.DurationVar(&c.MaxTokenAge, "max-token-age", envDuration("LTIPUB_MAX_TOKEN_AGE", 10*time.Minute),
		"refuse launches whose id_token was issued longer ago than this (beyond --clock-skew) (env LTIPUB_MAX_TOKEN_AGE)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env("LTIPUB_TRUSTED_PROXIES", ""),
		"comma-separated `addresses or CIDR prefixes` of reverse proxies whose X-Forwarded-For names the client, for sign-in throttling "+
			"(for example 127.0.0.1,10.0.0.0/8) (env LTIPUB_TRUSTED_PROXIES)")
	fs.DurationVar(&c.KeyOverlap, "key-overlap", envDuration("LTIPUB_KEY_OVERLAP", 72*time.Hour),
		"how long a rotated tool key stays published (env LTIPUB_KEY_OVERLAP)")
	fs.StringVar(&c.MemoryLimit, "memory-limit", env("LTIPUB_MEMORY_LIMIT", env("GOMEMLIMIT", DefaultMemoryLimit)),
		"soft memory `limit` of the Go runtime, such as 64MiB or 1GiB, or off: above it the garbage collector runs more often "+
			"(env LTIPUB_MEMORY_LIMIT, else Go's GOMEMLIMIT)")
}

// ParseMemoryLimit reads a memory limit as Go's GOMEMLIMIT writes it (a number of bytes with an optional unit B,
// KiB, MiB, GiB or TiB), or off (0: no limit).
func ParseMemoryLimit(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "off" {
		return 0, nil
	}
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	shift := uint(0)
	for _, u := range units {
		if strings.HasSuffix(v, u.suffix) {
			v, shift = strings.TrimSuffix(v, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)>>shift {
		return 0, errors.New("not a size")
	}
	return n << shift, nil
}

// Validate checks the configuration as a table of rules, each with a message that says what to change.
func (c *Config) Validate() error {
	base, baseErr := url.Parse(c.BaseURL)
	_, port, addrErr := net.SplitHostPort(c.Addr)
	portNum, portErr := strconv.Atoi(port)
	proxies, proxyErr := parseProxies(c.TrustedProxies)
	var memLimit int64
	var memErr error
	if c.MemoryLimit != "" { // the flag's default is DefaultMemoryLimit; a Config built in code has none
		memLimit, memErr = ParseMemoryLimit(c.MemoryLimit)
	}
	checks := []struct {
		bad bool
		msg string
	}{
		{addrErr != nil, fmt.Sprintf("--addr %q is not host:port (for example 127.0.0.1:8080)", c.Addr)},
		{addrErr == nil && (portErr != nil || portNum < 0 || portNum > 65535),
			fmt.Sprintf("--addr %q: the port must be a number from 0 to 65535 (for example 127.0.0.1:8080)", c.Addr)},
		{baseErr != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https"),
			fmt.Sprintf("--base-url %q must be an absolute http or https URL such as https://tool.example.edu", c.BaseURL)},
		{baseErr == nil && (base.RawQuery != "" || base.Fragment != ""), fmt.Sprintf("--base-url %q must not have a query or fragment", c.BaseURL)},
		{c.DB == "", "--db must name a SQLite file or a postgres:// URL"},
		{c.DB != "" && CheckDB(c.DB) != nil, fmt.Sprint(CheckDB(c.DB))},
		{!oneOf(c.LogLevel, "debug", "info", "warn", "error"), fmt.Sprintf("--log-level %q must be debug, info, warn or error", c.LogLevel)},
		{!oneOf(c.LogFormat, "text", "json"), fmt.Sprintf("--log-format %q must be text or json", c.LogFormat)},
		{c.ClockSkew < 0 || c.ClockSkew > 10*time.Minute, "--clock-skew must be between 0s and 10m"},
		{c.KeyOverlap < 0, "--key-overlap must not be negative"},
		{c.MaxTokenAge < 0 || (c.MaxTokenAge > 0 && c.MaxTokenAge < time.Minute) || c.MaxTokenAge > 24*time.Hour,
			"--max-token-age must be between 1m and 24h (platforms sign the id_token just before the browser brings it)"},
		{proxyErr != nil, fmt.Sprintf("--trusted-proxies: %v", proxyErr)},
		{memErr != nil || (memLimit > 0 && memLimit < 8<<20), fmt.Sprintf(
			"--memory-limit %q must be off or a size of at least 8MiB with a unit, such as 32MiB or 1GiB (LTIPUB_MEMORY_LIMIT, GOMEMLIMIT)", c.MemoryLimit)},
		{c.LaunchDetailRetention < 0, "--launch-detail-retention must not be negative (0: the default, 14 days)"},
		{c.GradeSyncInterval < 0 || (c.GradeSyncInterval > 0 && c.GradeSyncInterval < time.Second),
			"--grade-sync-interval must be 0 (off) or at least 1s"},
		{c.MemberSyncInterval < 0 || (c.MemberSyncInterval > 0 && c.MemberSyncInterval < time.Second),
			"--member-sync-interval must be 0 (off) or at least 1s"},
		{c.MemberSyncMaxUnenrol < 0 || c.MemberSyncMaxUnenrol > 100,
			"--member-sync-max-unenrol (LTIPUB_MEMBER_SYNC_MAX_UNENROL) must be a percentage between 1 and 100, for example 50"},
	}
	checks = append(checks, c.metricsChecks()...)
	var errs []error
	for _, ch := range checks {
		if ch.bad {
			errs = append(errs, errors.New(ch.msg))
		}
	}
	if len(errs) == 0 {
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
		c.Proxies = proxies
		c.MemoryLimitBytes = memLimit
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

// CheckDB refuses a --db value that is neither a SQLite file path nor a PostgreSQL URL, so that a typo such as
// mysql://… or postgress://… is named instead of becoming a new SQLite file with an odd name.
func CheckDB(dsn string) error {
	switch {
	case dsn == "":
		return errors.New("--db is empty: give a SQLite file path such as ./ltipub-data/ltipub.db or a postgres:// URL")
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		u, err := url.Parse(dsn)
		if err != nil {
			return fmt.Errorf("--db %q is not a valid PostgreSQL URL (%v): use postgres://user:password@host:5432/dbname", redact(dsn), err)
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return fmt.Errorf("--db %q names no server: use postgres://user:password@host:5432/dbname", redact(dsn))
		}
		return nil
	}
	if i := strings.Index(dsn, "://"); i >= 0 {
		return fmt.Errorf("--db %q: ltipub does not speak %q; give a SQLite file path or a postgres:// or postgresql:// URL",
			redact(dsn), dsn[:i])
	}
	if i := strings.IndexByte(dsn, ':'); i > 1 && !strings.HasPrefix(dsn, "file:") {
		// "postgres:host/db", "sqlite:x.db": a scheme without "//" is a typo too, not a file name (a Windows
		// drive letter has one character before its colon).
		return fmt.Errorf("--db %q looks like a URL with scheme %q; give a SQLite file path or a postgres:// URL",
			dsn, dsn[:i])
	}
	return nil
}

// redact hides a URL's password in messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return dsn
}

// metricsChecks checks the metrics settings and reads the token file.
func (c *Config) metricsChecks() []struct {
	bad bool
	msg string
} {
	var out []struct {
		bad bool
		msg string
	}
	add := func(bad bool, msg string) {
		out = append(out, struct {
			bad bool
			msg string
		}{bad, msg})
	}
	if c.MetricsAddr != "" {
		_, port, err := net.SplitHostPort(c.MetricsAddr)
		n, perr := strconv.Atoi(port)
		add(err != nil || perr != nil || n < 0 || n > 65535,
			fmt.Sprintf("--metrics-addr %q is not host:port with a port from 0 to 65535 (for example 127.0.0.1:9090)", c.MetricsAddr))
		add(c.MetricsAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0"), "--metrics-addr must differ from --addr: it is a second, private listener")
	}
	if c.MetricsTokenFile != "" {
		b, err := os.ReadFile(c.MetricsTokenFile)
		tok, _, _ := strings.Cut(string(b), "\n")
		tok = strings.TrimSpace(tok)
		switch {
		case err != nil:
			add(true, fmt.Sprintf("--metrics-token-file: %v", err))
		case len(tok) < 16:
			add(true, fmt.Sprintf("--metrics-token-file %s: the token on its first line must have at least 16 characters (try: openssl rand -hex 32 > %s)",
				c.MetricsTokenFile, c.MetricsTokenFile))
		default:
			c.MetricsToken = tok
		}
	}
	return out
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
