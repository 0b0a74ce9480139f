package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// Options set up a run.
type Options struct {
	Ltipub      string
	DB          string
	Course      string
	Concurrency int
	Duration    time.Duration
	MaxLaunches int
	Warmup      int
	// MemLimit is GOMEMLIMIT for ltipub ("" inherits the environment's).
	MemLimit string
}

// Report is what a run measured. CPU figures are milliseconds of user+system time per measured launch.
type Report struct {
	Engine       string  `json:"engine"`
	MemLimit     string  `json:"ltipub_gomemlimit,omitempty"`
	Concurrency  int     `json:"concurrency"`
	Seconds      float64 `json:"seconds"`
	Launches     int     `json:"launches"`
	Failed       int     `json:"failed"`
	FirstFailure string  `json:"first_failure,omitempty"`
	PerSecond    float64 `json:"launches_per_second"`
	P50          float64 `json:"p50_ms"`
	P90          float64 `json:"p90_ms"`
	P99          float64 `json:"p99_ms"`
	Max          float64 `json:"max_ms"`
	LtipubCPU    float64 `json:"ltipub_cpu_ms_per_launch"`
	PostgresCPU  float64 `json:"postgres_cpu_ms_per_launch,omitempty"`
	LoadCPU      float64 `json:"loadtest_cpu_ms_per_launch"`
	PeakRSSMB    float64 `json:"ltipub_peak_rss_mb"`
	ReadyRSSMB   float64 `json:"ltipub_peak_rss_mb_at_ready"`
	WarmRSSMB    float64 `json:"ltipub_peak_rss_mb_after_warmup"`
	Machine      string  `json:"machine"`
	LoadAverage  string  `json:"load_average_at_end"`
}

// Print writes the report for people.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "engine %s, %d at once, %.1f s, machine: %s, load average at the end: %s\n", r.Engine, r.Concurrency, r.Seconds, r.Machine, r.LoadAverage)
	if r.MemLimit != "" {
		fmt.Fprintf(w, "ltipub ran with GOMEMLIMIT=%s\n", r.MemLimit)
	}
	fmt.Fprintf(w, "launches      %d (%d failed)\n", r.Launches, r.Failed)
	fmt.Fprintf(w, "launches/s    %.1f\n", r.PerSecond)
	fmt.Fprintf(w, "latency ms    p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", r.P50, r.P90, r.P99, r.Max)
	fmt.Fprintf(w, "ltipub CPU    %.3f ms/launch\n", r.LtipubCPU)
	if r.Engine == "postgres" {
		fmt.Fprintf(w, "postgres CPU  %.3f ms/launch (ltipub's backends)\n", r.PostgresCPU)
	}
	fmt.Fprintf(w, "load tool CPU %.3f ms/launch (platform and browsers)\n", r.LoadCPU)
	fmt.Fprintf(w, "ltipub RSS    %.1f MB peak (%.1f MB when ready, %.1f MB after the warm-up)\n", r.PeakRSSMB, r.ReadyRSSMB, r.WarmRSSMB)
}

// Run sets up a fresh database, starts ltipub on it and measures launches.
func Run(ctx context.Context, o Options, logw io.Writer) (*Report, error) {
	work, err := os.MkdirTemp("", "ltipub-loadtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	dsn, engine := filepath.Join(work, "ltipub.db"), "sqlite"
	var pg *sql.DB
	var pgName string
	if o.DB != "" {
		engine = "postgres"
		if pg, dsn, pgName, err = freshPostgres(ctx, o.DB); err != nil {
			return nil, err
		}
		defer func() {
			_, _ = pg.ExecContext(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+pgName+` WITH (FORCE)`)
			pg.Close()
		}()
	}

	// The reference platform and the browsers live here; ltipub is another process.
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := ltitest.New(ltitest.Config{})
	pctx, stopPlatform := context.WithCancel(ctx)
	defer stopPlatform()
	go func() { _ = p.Serve(pctx, pln) }()

	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	base := "http://" + addr
	uuid, err := setUp(ctx, dsn, base, o.Course, p)
	if err != nil {
		return nil, fmt.Errorf("set up the database: %w", err)
	}

	cmd := exec.CommandContext(ctx, o.Ltipub, "serve")
	cmd.Env = append(os.Environ(), "LTIPUB_ADDR="+addr, "LTIPUB_BASE_URL="+base, "LTIPUB_DB="+dsn,
		"LTIPUB_ALLOW_PRIVATE_URLS=1", "LTIPUB_GRADE_SYNC_INTERVAL=0", "LTIPUB_MEMBER_SYNC_INTERVAL=0", "LTIPUB_LOG_LEVEL=warn")
	if o.MemLimit != "" {
		cmd.Env = append(cmd.Env, "GOMEMLIMIT="+o.MemLimit)
	}
	cmd.Stdout, cmd.Stderr = logw, logw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.Ltipub, err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	if err := waitReady(ctx, base+"/readyz", 60*time.Second); err != nil {
		return nil, err
	}
	rssReady := peakRSS(cmd.Process.Pid)

	transport := &http.Transport{MaxIdleConnsPerHost: 4 * o.Concurrency, DialContext: loopbackOnly}
	var seq atomic.Int64
	launch := func(ctx context.Context) (time.Duration, error) {
		n := seq.Add(1)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Transport: transport, Timeout: 30 * time.Second}
		spec := ltitest.LaunchSpec{
			User:         &ltitest.User{Sub: fmt.Sprintf("load-%d", n), Name: "Load User", Email: fmt.Sprintf("load%d@example.edu", n)},
			Roles:        []string{ltitest.RoleLearner},
			Context:      &ltitest.Context{ID: "ctx-load"},
			ResourceLink: &ltitest.ResourceLink{ID: "rl-load"},
			Custom:       map[string]string{"id": uuid},
			AGS:          &ltitest.AGS{}, NRPS: true,
		}
		t0 := time.Now()
		res, err := p.Launch(ctx, c, spec)
		d := time.Since(t0)
		if err != nil {
			return d, err
		}
		if res.Response.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), "Solar System quiz") {
			return d, fmt.Errorf("launch %d: status %d", n, res.Response.StatusCode)
		}
		return d, nil
	}
	for i := 0; i < o.Warmup; i++ {
		if _, err := launch(ctx); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	rssWarm := peakRSS(cmd.Process.Pid)

	pid := cmd.Process.Pid
	backends := func() []int { return nil }
	if pg != nil {
		backends = func() []int { return backendPIDs(ctx, pg, pgName) }
	}
	pgBefore := map[int]time.Duration{}
	for _, b := range backends() {
		pgBefore[b] = procCPU(b)
	}
	cpu0, self0 := procCPU(pid), selfCPU()
	start := time.Now()
	deadline := start.Add(o.Duration)
	var mu sync.Mutex
	var lat []time.Duration
	var failed int
	var firstFailure string
	var launched atomic.Int64
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && launched.Add(1) <= int64(o.MaxLaunches) && ctx.Err() == nil {
				d, err := launch(ctx)
				if err != nil {
					mu.Lock()
					if failed == 0 {
						firstFailure = err.Error()
					}
					failed++
					mu.Unlock()
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu, self := procCPU(pid)-cpu0, selfCPU()-self0
	var pgCPU time.Duration
	for _, b := range backends() {
		pgCPU += procCPU(b) - pgBefore[b]
	}
	rep := &Report{Engine: engine, MemLimit: o.MemLimit, Concurrency: o.Concurrency, Seconds: elapsed.Seconds(), Launches: len(lat), Failed: failed,
		FirstFailure: firstFailure, PeakRSSMB: float64(peakRSS(pid)) / 1024, ReadyRSSMB: float64(rssReady) / 1024, WarmRSSMB: float64(rssWarm) / 1024, Machine: machine(), LoadAverage: loadAverage()}
	if len(lat) == 0 {
		return rep, nil
	}
	slices.Sort(lat)
	pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	n := float64(len(lat))
	rep.PerSecond = n / elapsed.Seconds()
	rep.P50, rep.P90, rep.P99, rep.Max = pct(0.50), pct(0.90), pct(0.99), pct(1)
	rep.LtipubCPU = float64(cpu.Microseconds()) / 1000 / n
	rep.PostgresCPU = float64(pgCPU.Microseconds()) / 1000 / n
	rep.LoadCPU = float64(self.Microseconds()) / 1000 / n
	return rep, nil
}

// loopbackOnly refuses to dial anything but loopback: the load is for this machine's ltipub only.
func loopbackOnly(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("ltipub-loadtest dials loopback only, not %s", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// setUp migrates the database and makes what a launch needs: an admin, the example course, its quiz published,
// and the platform registered. It returns the published resource's UUID.
func setUp(ctx context.Context, dsn, base, coursePath string, p *ltitest.Platform) (string, error) {
	data, err := os.ReadFile(coursePath)
	if err != nil {
		return "", fmt.Errorf("read the course file (-course): %w", err)
	}
	st, err := app.OpenStore(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		return "", err
	}
	defer st.Close()
	accounts := &account.Service{Store: st, Failures: st}
	admin, err := accounts.Create(ctx, account.NewUser{Username: "admin", FullName: "Load test admin", Password: randomHex(16), IsAdmin: true})
	if err != nil {
		return "", err
	}
	courses := &course.Service{Store: st, Users: st}
	imported, err := courses.Import(ctx, &admin, data)
	if err != nil {
		return "", err
	}
	in := publish.NewInput(imported.Course.ID)
	for _, a := range imported.Activities {
		if a.Type == course.TypeQuiz {
			in.ActivityID = a.ID
		}
	}
	pub := &publish.Service{Store: st, Courses: courses, Accounts: accounts}
	r, err := pub.Publish(ctx, nil, in)
	if err != nil {
		return "", err
	}
	reg := tool.Registration{Name: "Load test platform", Issuer: p.Issuer(), ClientID: "load-client",
		JWKSURL: p.JWKSURL(), TokenURL: p.TokenURL(), AuthURL: p.AuthURL()}
	if err := st.CreateRegistration(ctx, &reg); err != nil {
		return "", err
	}
	if err := st.AddDeployment(ctx, &tool.Deployment{RegistrationID: reg.ID, DeploymentID: "deployment-1"}); err != nil {
		return "", err
	}
	err = p.RegisterTool(ltitest.ToolConfig{ClientID: reg.ClientID, DeploymentIDs: []string{"deployment-1"},
		LoginURL: base + "/lti/login", RedirectURIs: []string{base + "/lti/launch"}, JWKSURL: base + "/lti/jwks",
		TargetLinkURI: base + "/lti/launch", Name: "ltipub"})
	return r.UUID, err
}

func freshPostgres(ctx context.Context, server string) (*sql.DB, string, string, error) {
	u, err := url.Parse(server)
	if err != nil || !sqlstore.IsPostgresDSN(server) {
		return nil, "", "", fmt.Errorf("-db %q is not a postgres:// URL", server)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, "", "", fmt.Errorf("-db %q: ltipub-loadtest uses a PostgreSQL server on loopback only", server)
	}
	db, err := sql.Open("pgx", server)
	if err != nil {
		return nil, "", "", err
	}
	name := "ltipub_load_" + randomHex(6)
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		db.Close()
		return nil, "", "", fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	return db, u.String(), name, nil
}

func backendPIDs(ctx context.Context, db *sql.DB, name string) []int {
	rows, err := db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1`, name)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			out = append(out, pid)
		}
	}
	return out
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(ctx context.Context, u string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ltipub did not become ready at %s within %s (last: %v)", u, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat times (100 on every Linux that ships today).
const clockTick = 10 * time.Millisecond

// procCPU is a process's user+system CPU time so far, from /proc/<pid>/stat (0 if it is gone).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * clockTick
}

// peakRSS is a process's peak resident set (VmHWM) in kB.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs, %s, %s/%s", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("no randomness"))
	}
	return hex.EncodeToString(b)
}
