package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bin is the ltipub binary these tests run as an operator would: a real process, its exit status, its streams.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ltipub-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "ltipub")
	// -buildvcs=true records the commit, as a build from a checkout does (the machine's GOFLAGS may turn it off).
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		// Outside a VCS checkout (an unpacked module) -buildvcs=true fails; build without it.
		build = exec.Command("go", "build", "-buildvcs=false", "-o", bin, ".")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ltipub runs the binary in dir with nothing on its standard input, in the default locale.
func ltipub(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return ltipubIn(t, dir, "", nil, args...)
}

func TestVersion(t *testing.T) {
	out, _, code := ltipub(t, t.TempDir(), "--version")
	if code != 0 || !strings.HasPrefix(out, "ltipub ") || !strings.Contains(out, "go1.") {
		t.Fatalf("--version: %d %q", code, out)
	}
	out2, _, _ := ltipub(t, t.TempDir(), "version")
	if out2 != out {
		t.Fatalf("version %q and --version %q differ", out2, out)
	}
	js, _, _ := ltipub(t, t.TempDir(), "version", "--json")
	var b struct{ Version, Revision, GoVersion string }
	if err := json.Unmarshal([]byte(js), &b); err != nil || b.Version == "" {
		t.Fatalf("version --json: %q %v", js, err)
	}
	// In a plain git checkout the binary names its commit. (Go does not read the VCS of a git worktree, whose
	// .git is a file, so there the revision is absent, as it is for `go install …@version`.)
	if fi, err := os.Stat("../../.git"); err == nil && fi.IsDir() {
		head, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil {
			t.Fatal(err)
		}
		if b.Revision != strings.TrimSpace(string(head)) || !strings.Contains(out, b.Revision) {
			t.Fatalf("revision %q, HEAD is %s (%q)", b.Revision, head, out)
		}
	} else {
		t.Logf("not a plain git checkout: version is %q", strings.TrimSpace(out))
	}
}

// The completion script loads in bash and registers ltipub; the completions it asks the binary for (cobra's
// hidden __complete command, which the script runs; the script itself needs Debian's bash-completion package to
// read the command line) list the commands.
func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is needed to check the completion script")
	}
	cmd := exec.Command("bash", "-c", `source <(ltipub completion bash) && complete -p ltipub && declare -F __start_ltipub`)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "__start_ltipub ltipub") {
		t.Fatalf("source <(ltipub completion bash): %v\n%s", err, out)
	}
	for words, want := range map[string][]string{"pla": {"platform"}, "user s": {"set-password", "show", "suspend"},
		"platform show 1 --js": {"--json"}, "sync ": {"grades", "members"}} {
		out, _, code := ltipub(t, t.TempDir(), append([]string{"__complete"}, strings.Split(words, " ")...)...)
		for _, w := range want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("completing %q: %d %q, want %s", words, code, out, w)
			}
		}
	}
	for _, shell := range []string{"zsh", "fish"} {
		if out, _, code := ltipub(t, t.TempDir(), "completion", shell); code != 0 || !strings.Contains(out, "ltipub") {
			t.Errorf("completion %s: %d", shell, code)
		}
	}
}

// A mistyped --db exits with status 1, says what is wrong, and creates nothing.
func TestDBTyposExitStatus(t *testing.T) {
	dir := t.TempDir()
	for _, db := range []string{"mysql://x", "postgress://127.0.0.1/x", filepath.Join(dir, "missing", "x.db"), "ltipbu.db"} {
		_, errOut, code := ltipub(t, dir, "platform", "list", "--db", db)
		if code != 1 || !strings.Contains(errOut, "ltipub:") {
			t.Errorf("--db %s: exit %d %q", db, code, errOut)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("refused commands left %v behind", entries)
	}
}

// Help goes to standard output with status 0; a wrong command line to standard error with status 2.
func TestHelpAndUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"help", "course"}, {"course", "--help"}, {"course", "import", "--help"}, {"help", "user", "delete"}} {
		out, errOut, code := ltipub(t, t.TempDir(), args...)
		if code != 0 || errOut != "" || !strings.Contains(out, "Usage:") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if out, _, _ := ltipub(t, t.TempDir(), "help", "course"); !strings.Contains(out, "import") || strings.Contains(out, "serve") {
		t.Errorf("help course shows the top-level help: %s", out)
	}
	_, errOut, code := ltipub(t, t.TempDir(), "course", "import", "--jsn", "x.json")
	if code != 2 || !strings.Contains(errOut, "unknown flag: --jsn; did you mean --json?") || !strings.Contains(errOut, "ltipub course import --help") {
		t.Errorf("unknown flag: %d %q", code, errOut)
	}
}

// cleanEnv is the test's environment without LTIPUB_ settings, which would change what the commands do, and without
// the locale variables, which would change the language of their words.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		// The operator's locale too: these tests read English output (language_test.go sets its own).
		if !strings.HasPrefix(kv, "LTIPUB_") && !strings.HasPrefix(kv, "LC_ALL=") && !strings.HasPrefix(kv, "LC_MESSAGES=") && !strings.HasPrefix(kv, "LANG=") {
			out = append(out, kv)
		}
	}
	return out
}
