package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/app"
)

// TestREADMECommands runs every command line of the README's Commands block, in each form its syntax allows
// (each alternative, with all of its optional parts and with none, flags after and before the positional
// arguments), against a fresh copy of a database that holds one of everything. The README and the CLI cannot
// drift apart: a command, flag or placeholder the README names and the CLI does not take fails here.
func TestREADMECommands(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := readmeCommands(t, string(readme))
	if len(lines) < 25 {
		t.Fatalf("found only %d commands in the README's Commands block", len(lines))
	}
	fx := newFixture(t)
	seen := map[string]bool{}
	for _, line := range lines {
		variants := expand(parseSyntax(tokens(strings.TrimPrefix(line, "ltipub "))))
		for _, v := range variants {
			args := fx.resolve(t, line, v)
			for _, order := range []string{"as written", "flags first"} {
				a := args
				if order == "flags first" {
					a = flagsFirst(t, args)
				}
				key := strings.Join(a, " ")
				if seen[key] {
					continue
				}
				seen[key] = true
				t.Run(key, func(t *testing.T) {
					fx.run(t, line, a)
				})
			}
		}
	}
	// Every command of the CLI appears in the README.
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		if !c.HasSubCommands() {
			path := strings.TrimPrefix(c.CommandPath(), "ltipub ")
			if !readmeHasAlternative(lines, path) {
				t.Errorf("the README's Commands block does not show `ltipub %s`", path)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(Root(Env{}))
}

// readmeCommands returns the command syntax of each entry of the README's Commands block, continuation lines
// joined, descriptions left out.
func readmeCommands(t *testing.T, readme string) []string {
	t.Helper()
	_, after, ok := strings.Cut(readme, "## Commands\n\n```\n")
	if !ok {
		t.Fatal("the README has no Commands block")
	}
	block, _, _ := strings.Cut(after, "\n```")
	var out []string
	for _, l := range strings.Split(block, "\n") {
		trimmed := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "ltipub "):
			syntax, _, _ := strings.Cut(l, "  ") // a description follows two or more spaces
			out = append(out, strings.TrimSpace(syntax))
		case strings.HasPrefix(trimmed, "[") && len(out) > 0: // the syntax goes on
			syntax, _, _ := strings.Cut(trimmed, "  ")
			out[len(out)-1] += " " + syntax
		}
	}
	return out
}

func readmeHasAlternative(lines []string, path string) bool {
	for _, l := range lines {
		for _, v := range expand(parseSyntax(tokens(strings.TrimPrefix(l, "ltipub ")))) {
			if strings.HasPrefix(strings.Join(v, " ")+" ", path+" ") {
				return true
			}
		}
	}
	return false
}

func tokens(s string) []string {
	return strings.Fields(strings.NewReplacer("[", " [ ", "]", " ] ").Replace(s))
}

// item is a word of the syntax or an optional group.
type item struct {
	word string
	opt  []item
}

func parseSyntax(toks []string) []item {
	var parse func(i int) ([]item, int)
	parse = func(i int) ([]item, int) {
		var seq []item
		for i < len(toks) {
			switch toks[i] {
			case "[":
				group, next := parse(i + 1)
				seq = append(seq, item{opt: group})
				i = next
			case "]":
				return seq, i + 1
			default:
				seq = append(seq, item{word: toks[i]})
				i++
			}
		}
		return seq, i
	}
	seq, _ := parse(0)
	return seq
}

// expand gives the forms of a syntax: optional groups all in or all out, and each alternative of a|b|c words
// (a flag's value takes its first alternative).
func expand(seq []item) [][]string {
	var all func(seq []item, withOpt bool) [][]string
	all = func(seq []item, withOpt bool) [][]string {
		out := [][]string{nil}
		prevFlag := false
		for _, it := range seq {
			var choices [][]string
			switch {
			case it.opt != nil && withOpt:
				choices = all(it.opt, true)
			case it.opt != nil:
				choices = [][]string{nil}
			case strings.Contains(it.word, "|") && !prevFlag:
				for _, alt := range strings.Split(it.word, "|") {
					choices = append(choices, []string{alt})
				}
			case strings.Contains(it.word, "|"):
				choices = [][]string{{strings.Split(it.word, "|")[0]}}
			default:
				choices = [][]string{{it.word}}
			}
			prevFlag = it.opt == nil && strings.HasPrefix(it.word, "--")
			var next [][]string
			for _, o := range out {
				for _, c := range choices {
					next = append(next, append(append([]string(nil), o...), c...))
				}
			}
			out = next
		}
		return out
	}
	return append(all(seq, true), all(seq, false)...)
}

var placeholder = regexp.MustCompile(`^[A-Z][A-Z_:]*$`)

// fixture is a database with one of everything, copied fresh for each command.
type fixture struct {
	dir, db, pwFile, course string
	userID, courseID        int64
	activityID              int64
	uuid                    string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fx := &fixture{dir: t.TempDir()}
	fx.db = filepath.Join(fx.dir, "fixture.db")
	fx.pwFile = filepath.Join(fx.dir, "password.txt")
	_ = os.WriteFile(fx.pwFile, []byte("a long enough password\n"), 0o600)
	fx.course, _ = filepath.Abs("../../examples/course.json")
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := runIn(t, stdin, append(args, "--db", fx.db)...)
		if code != 0 {
			t.Fatalf("fixture: ltipub %v: %d %s", args, code, errOut)
		}
		return out
	}
	must("", "migrate")
	must("a long enough password\n", "user", "create", "--username", "boss", "--admin")
	var u userJSON
	_ = json.Unmarshal([]byte(must("a long enough password\n", "user", "create", "--username", "alice", "--name", "Alice Example", "--json")), &u)
	must("a long enough password\n", "user", "create", "--username", "bob", "--name", "Bob, Alice's second account")
	// The fixture's course is the example with another short name, so that the README's import of the example
	// itself still works on the copies.
	example, _ := os.ReadFile(fx.course)
	own := filepath.Join(fx.dir, "fixture-course.json")
	_ = os.WriteFile(own, bytes.Replace(example, []byte(`"ASTRO101"`), []byte(`"FIXTURE1"`), 1), 0o600)
	var c courseJSON
	_ = json.Unmarshal([]byte(must("", "course", "import", own, "--teacher", "alice", "--json")), &c)
	must("", "platform", "add", "--name", "Moodle")
	must("", "platform", "set", "1", "--issuer", "https://moodle.example.edu", "--client-id", "client-1", "--jwks-url",
		"https://moodle.example.edu/certs", "--token-url", "https://moodle.example.edu/token", "--auth-url", "https://moodle.example.edu/auth")
	must("", "deployment", "add", "1", "--deployment-id", "d1")
	must("", "deployment", "add", "1", "--deployment-id", "d2")
	var r resourceJSON
	_ = json.Unmarshal([]byte(must("", "publish", "--course", itoa(c.ID), "--json")), &r)
	if u.ID == 0 || c.ID == 0 || len(c.Activities) < 2 || r.UUID == "" {
		t.Fatalf("fixture: %+v %+v %+v", u, c, r)
	}
	fx.userID, fx.courseID, fx.activityID, fx.uuid = u.ID, c.ID, c.Activities[1].ID, r.UUID
	return fx
}

// value is what the test types for a placeholder of the README, given the flag it follows ("" for a positional
// argument) and the command.
func (fx *fixture) value(t *testing.T, cmd, flag, ph string) string {
	t.Helper()
	byFlag := map[string]string{
		"--username": "newperson", "--email": "new@example.edu", "--name": "A name", "--password-file": fx.pwFile,
		"--query": "ali", "--after": "a", "--limit": "10", "--teacher": "alice", "--course": itoa(fx.courseID),
		"--activity": itoa(fx.activityID), "--quiz": itoa(fx.activityID), "--base-url": "https://tool.example.edu", "--issuer": "https://moodle2.example.edu",
		"--client-id": "client-2", "--jwks-url": "https://moodle.example.edu/jwks", "--token-url": "https://moodle.example.edu/t",
		"--auth-url": "https://moodle.example.edu/a", "--deployment-id": "d-new", "--resource": fx.uuid, "--member-sync-max-unenrol": "50",
	}
	switch flag {
	case "--dir": // a demo's own folder: it refuses one that holds an earlier demo
		dir, err := os.MkdirTemp(fx.dir, "demo-")
		if err != nil {
			t.Fatal(err)
		}
		return dir
	case "--addr":
		return "127.0.0.1:0"
	case "--file": // a new key file: it refuses to overwrite one
		dir, err := os.MkdirTemp(fx.dir, "key-")
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Join(dir, "secrets.key")
	}
	if flag != "" {
		if v, ok := byFlag[flag]; ok {
			return v
		}
		t.Fatalf("the README writes %s %s, and this test does not know what to type for it", flag, ph)
	}
	switch {
	case ph == "FILE" && cmd == "course import":
		return fx.course
	case ph == "FILE" && cmd == "quiz import":
		f, _ := filepath.Abs(moodleData + "PHYS101-questions.gift.txt")
		return f
	case ph == "ID" && strings.HasPrefix(cmd, "user "):
		return itoa(fx.userID)
	case ph == "USERNAME" && strings.HasPrefix(cmd, "user "):
		return "alice"
	case ph == "KEEP" && cmd == "user merge":
		return "alice"
	case ph == "DROP" && cmd == "user merge":
		return "bob"
	case ph == "ID" && cmd == "course export":
		return itoa(fx.courseID)
	case ph == "UUID" && cmd == "published show":
		return fx.uuid
	case ph == "ID" && (strings.HasPrefix(cmd, "platform ") || strings.HasPrefix(cmd, "deployment ")):
		return "1"
	case ph == "D" && cmd == "deployment remove":
		return "d1"
	case ph == "COMMAND" && cmd == "help":
		return "course"
	}
	t.Fatalf("the README writes `ltipub %s … %s`, and this test does not know what to type for it", cmd, ph)
	return ""
}

// resolve turns a form of a README line into arguments: placeholders get values.
func (fx *fixture) resolve(t *testing.T, line string, words []string) []string {
	t.Helper()
	var cmd []string
	for _, w := range words {
		if strings.HasPrefix(w, "-") || placeholder.MatchString(w) {
			break
		}
		cmd = append(cmd, w)
	}
	path := strings.Join(cmd, " ")
	var args []string
	for i, w := range words {
		if placeholder.MatchString(w) {
			flag := ""
			if i > 0 && strings.HasPrefix(words[i-1], "--") {
				flag = words[i-1]
			}
			w = fx.value(t, path, flag, w)
		}
		args = append(args, w)
	}
	return args
}

// flagsFirst moves the flags (with their values) before the positional arguments.
func flagsFirst(t *testing.T, args []string) []string {
	t.Helper()
	c, _, err := Root(Env{}).Find(args)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	nsub := len(strings.Fields(c.CommandPath())) - 1 // the command's own words
	sub, rest := args[:nsub], args[nsub:]
	var flags, pos []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if !strings.HasPrefix(a, "-") {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		f := c.Flags().Lookup(name)
		if f == nil && len(name) == 1 {
			f = c.Flags().ShorthandLookup(name)
		}
		if f != nil && f.Value.Type() != "bool" && !strings.Contains(a, "=") && i+1 < len(rest) {
			flags = append(flags, rest[i+1])
			i++
		}
	}
	return append(append(append([]string(nil), sub...), flags...), pos...)
}

// run runs one command line on a fresh copy of the fixture: it must succeed, or, for a destructive command
// given without --yes (the README's [--yes]), refuse and say to add --yes.
func (fx *fixture) run(t *testing.T, line string, args []string) {
	db := filepath.Join(t.TempDir(), "ltipub.db")
	copyFile(t, fx.db, db)
	// The fixture's secrets are sealed with the key made beside it; the copy needs it beside itself too.
	copyFile(t, filepath.Join(filepath.Dir(fx.db), app.SecretsKeyFileName), filepath.Join(filepath.Dir(db), app.SecretsKeyFileName))
	c, _, err := Root(Env{}).Find(args)
	if err != nil {
		t.Fatal(err)
	}
	if c.Flags().Lookup("db") != nil {
		args = append(args, "--db", db)
	}
	stdin := "a long enough password\n"
	if c.Name() == "serve" {
		fx.serve(t, args)
		return
	}
	if c.Name() == "demo" {
		fx.demo(t, args)
		return
	}
	out, errOut, code := runIn(t, stdin, args...)
	if code == 2 && strings.Contains(line, "[--yes]") && !hasArg(args, "--yes") && strings.Contains(errOut, "add --yes") {
		return
	}
	if code != 0 {
		t.Fatalf("ltipub %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	if hasArg(args, "--json") && !json.Valid([]byte(out)) {
		t.Fatalf("ltipub %s --json printed %q", strings.Join(args, " "), out)
	}
}

// serve runs `ltipub serve` until it has started, then stops it as a signal would. It listens on a free port:
// the README's default address may be taken on a test machine.
func (fx *fixture) serve(t *testing.T, args []string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &errOut}, append(args, "--addr", "127.0.0.1:0"))
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
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve stopped with %d: %s", code, errOut.String())
	}
}

// demo runs `ltipub demo` until it has printed the demo LMS's URL, then stops it as Ctrl-C would.
func (fx *fixture) demo(t *testing.T, args []string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}, args)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "http://") {
		select {
		case code := <-done:
			t.Fatalf("demo exited %d: %s %s", code, out.String(), errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo printed no URL: %s %s", out.String(), errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("demo stopped with %d: %s", code, errOut.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func hasArg(args []string, a string) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(from + suffix)
		if err != nil {
			if suffix != "" {
				continue
			}
			t.Fatal(err)
		}
		if err := os.WriteFile(to+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
