package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/logging"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
)

// A mistyped --db is refused by name, with exit status 1, and leaves no file or folder behind.
func TestDBTyposRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "ltipub.db")
	if _, errOut, code := run(t, "migrate", "--db", good); code != 0 {
		t.Fatalf("migrate: %d %s", code, errOut)
	}
	empty := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown scheme", []string{"platform", "list", "--db", "mysql://x"}, `does not speak "mysql"`},
		{"unknown scheme on import", []string{"course", "import", "../../examples/course.json", "--db", "mysql://x"}, `does not speak "mysql"`},
		{"misspelt postgres", []string{"platform", "list", "--db", "postgress://127.0.0.1/x"}, `does not speak "postgress"`},
		{"unknown scheme on migrate", []string{"migrate", "--db", "mysql://x"}, `does not speak "mysql"`},
		{"missing folder", []string{"platform", "list", "--db", filepath.Join(dir, "nonexistent", "x.db")}, "no ltipub database at"},
		{"missing folder on migrate", []string{"migrate", "--db", filepath.Join(dir, "nonexistent", "x.db")}, "does not exist; create it"},
		{"missing folder on serve", []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "nonexistent", "x.db")}, "does not exist; create it"},
		{"missing file", []string{"platform", "list", "--db", filepath.Join(dir, "ltipbu.db")}, "did you mean --db " + good},
		{"missing file says what to run", []string{"user", "create", "--username", "a", "--db", filepath.Join(dir, "x.db")}, "run `ltipub serve` or `ltipub migrate` first"},
		{"not an ltipub database", []string{"keys", "list", "--db", empty}, "is not an ltipub database"},
	}
	for _, tt := range tests {
		_, errOut, code := run(t, tt.args...)
		if code != 1 || !strings.Contains(errOut, tt.wantErr) {
			t.Errorf("%s: exit %d %q, want 1 with %q", tt.name, code, errOut, tt.wantErr)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// ltipub.db with its WAL files and the secrets key migrate made beside it, and the empty file, untouched.
	for _, n := range names {
		if !strings.HasPrefix(n, "ltipub.db") && n != "notes.txt" && n != "secrets.key" {
			t.Errorf("a refused command left %s behind (folder holds %v)", n, names)
		}
	}
	if fi, _ := os.Stat(empty); fi.Size() != 0 {
		t.Error("the command wrote into a file that is not an ltipub database")
	}
	if _, err := os.Stat("mysql:"); err == nil {
		t.Error("--db mysql://x made a folder mysql:")
	}
}

// serve checks every flag before it writes anything: a bad port leaves no database and no admin.
func TestServeValidatesBeforeWriting(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "ltipub.db")
	_, errOut, code := run(t, "serve", "--addr", ":99999", "--db", db)
	if code != 1 || !strings.Contains(errOut, "0 to 65535") || strings.Contains(errOut, "password") {
		t.Fatalf("serve --addr :99999: exit %d %q", code, errOut)
	}
	if _, err := os.Stat(db); err == nil {
		t.Fatal("serve with a bad --addr created the database")
	}
}

// Without --base-url, commands print the URLs of the server that last ran on the database.
func TestRecordedBaseURL(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	st, err := app.OpenStore(context.Background(), db, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	err = app.RecordBaseURL(context.Background(), st, "https://ltipub.example.org/")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var reg registrationJSON
	out, errOut, code := run(t, "platform", "add", "--name", "Moodle", "--db", db, "--json")
	if code != 0 || json.Unmarshal([]byte(out), &reg) != nil || reg.Tool.LaunchURL != "https://ltipub.example.org/lti/launch" {
		t.Fatalf("platform add without --base-url: %d %s %s", code, out, errOut)
	}
	out, errOut, code = run(t, "platform", "show", "1", "--db", db, "--json", "--base-url", "https://other.example.org")
	if code != 0 || json.Unmarshal([]byte(out), &reg) != nil || reg.Tool.JWKSURL != "https://other.example.org/lti/jwks" {
		t.Fatalf("platform show --base-url: %d %s %s", code, out, errOut)
	}
	if _, errOut, code := run(t, "platform", "show", "1", "--db", db, "--base-url", "ltipub.example.org"); code != 1 || !strings.Contains(errOut, "--base-url") {
		t.Fatalf("a relative --base-url: %d %s", code, errOut)
	}
}

// On PostgreSQL too: a migrated database works, one without ltipub's tables and a missing one are refused by name.
func TestPostgresDB(t *testing.T) {
	t.Parallel()
	dsn := sqltest.DSN(t, sqlstore.Postgres)
	// PostgreSQL has no folder to keep a secrets key in: without one the command says how to make it.
	if _, errOut, code := run(t, "platform", "list", "--db", dsn); code != 1 || !strings.Contains(errOut, "ltipub secrets new-key --file") {
		t.Fatalf("PostgreSQL without a secrets key: %d %s", code, errOut)
	}
	key := filepath.Join(t.TempDir(), "secrets.key")
	if _, errOut, code := run(t, "secrets", "new-key", "--file", key); code != 0 {
		t.Fatalf("secrets new-key: %d %s", code, errOut)
	}
	if out, errOut, code := run(t, "platform", "add", "--name", "Moodle", "--db", dsn, "--secrets-key-file", key, "--json"); code != 0 || !strings.Contains(out, `"status":"Pending"`) {
		t.Fatalf("platform add on PostgreSQL: %d %s %s", code, out, errOut)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	missing := *u
	missing.Path = "/ltipub_no_such_database"
	if _, errOut, code := run(t, "platform", "list", "--db", missing.String()); code != 1 || !strings.Contains(errOut, `no database "ltipub_no_such_database"`) ||
		!strings.Contains(errOut, "createdb ltipub_no_such_database") {
		t.Fatalf("missing PostgreSQL database: %d %s", code, errOut)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DROP TABLE goose_db_version`); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run(t, "platform", "list", "--db", dsn); code != 1 || !strings.Contains(errOut, "is not an ltipub database") {
		t.Fatalf("a PostgreSQL database without ltipub's tables: %d %s", code, errOut)
	}
}

// serve records the base URL it runs under, and later commands print that server's URLs. With metrics on, the
// main listener serves /metrics to the token only and never the profiler; the metrics listener serves both.
func TestServeRecordsBaseURLAndServesMetrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, tokenFile := filepath.Join(dir, "ltipub.db"), filepath.Join(dir, "metrics-token")
	const token = "0123456789abcdef-metrics"
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Env{Stdin: strings.NewReader(""), Stdout: &syncBuffer{}, Stderr: &errOut},
			[]string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--base-url", "https://ltipub.school.example/",
				"--metrics-addr", "127.0.0.1:0", "--metrics-token-file", tokenFile})
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errOut.String(), "ltipub serving") {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	addr := func(msg string) string {
		m := regexp.MustCompile(`msg="?` + msg + `"? addr=(\S+)`).FindStringSubmatch(errOut.String())
		if m == nil {
			t.Fatalf("no %q line with an address in %s", msg, errOut.String())
		}
		return "http://" + m[1]
	}
	main, side := addr("ltipub serving"), addr("metrics and profiling")
	get := func(url, token string) int {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		url, token string
		want       int
	}{
		{main + "/metrics", "", http.StatusUnauthorized},
		{main + "/metrics", "wrong-token-wrong-token", http.StatusUnauthorized},
		{main + "/metrics", token, http.StatusOK},
		{main + "/debug/pprof/", token, http.StatusNotFound},
		{side + "/metrics", "", http.StatusOK},
		{side + "/debug/pprof/", "", http.StatusOK},
	} {
		if got := get(c.url, c.token); got != c.want {
			t.Errorf("GET %s (token %q): %d, want %d", c.url, c.token, got, c.want)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve: %d %s", code, errOut.String())
	}
	var reg registrationJSON
	out, stderr, code := run(t, "platform", "add", "--name", "Canvas", "--db", db, "--json")
	if code != 0 || json.Unmarshal([]byte(out), &reg) != nil || reg.Tool.LoginURL != "https://ltipub.school.example/lti/login" {
		t.Fatalf("platform add after serve: %d %s %s", code, out, stderr)
	}
}
