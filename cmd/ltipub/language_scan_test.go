package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSpanishOutputHasNoEnglish runs every human command (not --json) with LANG=es_ES.UTF-8, successes and the
// usual mistakes, and fails when a phrase of the CLI's English catalog (locales/cli.en.json) shows: the CLI's
// counterpart of the web's template scan. A phrase is a run of two or more words between placeholders, and one the
// Spanish catalog also uses (a command example, a flag) does not count. Words ltipub does not own stay as they are:
// course names, a platform's answers, slog lines.
func TestSpanishOutputHasNoEnglish(t *testing.T) {
	phrases := englishPhrases(t)
	if len(phrases) < 100 {
		t.Fatalf("only %d English phrases in the catalog: the scan would find little", len(phrases))
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "ltipub.db")
	es := []string{"LANG=es_ES.UTF-8"}
	gift := filepath.Join(dir, "q.gift.txt")
	if err := os.WriteFile(gift, []byte("::Sum:: 2 + 2 = {=4 ~3 ~5}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "pw.txt")
	if err := os.WriteFile(pw, []byte("another long password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	example, err := filepath.Abs("../../examples/course.json")
	if err != nil {
		t.Fatal(err)
	}
	d := []string{"--db", db}
	type step struct {
		stdin string
		args  []string
	}
	steps := []step{
		{"", []string{"migrate"}},
		{"a long enough password\n", []string{"user", "create", "--username", "ada", "--admin"}},
		{"a long enough password\n", []string{"user", "create", "--username", "bea"}},
		{"a long enough password\n", []string{"user", "create", "--username", "bea"}}, // taken
		{"short\n", []string{"user", "create", "--username", "cid"}},
		{"", []string{"user", "create", "--username", "cid"}}, // no password
		{"", []string{"user", "list", "--limit", "1"}},
		{"", []string{"user", "list", "--query", "nobody"}},
		{"", []string{"user", "list", "--limit", "0"}},
		{"", []string{"user", "show", "ada"}},
		{"", []string{"user", "show", "nobody"}},
		{"", []string{"user", "set-password", "bea", "--password-file", pw}},
		{"", []string{"user", "set-password", "bea", "--password-file", filepath.Join(dir, "missing")}},
		{"", []string{"user", "suspend", "bea"}},
		{"", []string{"user", "unsuspend", "bea"}},
		{"", []string{"user", "unlock", "bea"}},
		{"", []string{"user", "suspend", "ada"}}, // the last administrator
		{"", []string{"course", "import", example, "--teacher", "bea"}},
		{"", []string{"course", "import", example, "--teacher", "nobody"}},
		{"", []string{"course", "import", filepath.Join(dir, "missing.json")}},
		{"", []string{"course", "export", "x"}},
		{"", []string{"course", "export", "99"}},
		{"", []string{"quiz", "import", "--course", "1", gift}},
		{"", []string{"quiz", "import", gift}},
		{"", []string{"quiz", "import", "--course", "1", filepath.Join(dir, "missing.txt")}},
		{"", []string{"publish", "--course", "1"}},
		{"", []string{"publish"}},
		{"", []string{"published", "list"}},
		{"", []string{"published", "show", "nope"}},
		{"", []string{"keys", "list"}},
		{"", []string{"keys", "rotate"}},
		{"", []string{"keys", "rotate", "--overlap", "-1h"}},
		{"", []string{"platform", "list"}},
		{"", []string{"platform", "add", "--name", "Moodle"}},
		{"", []string{"platform", "list"}},
		{"", []string{"platform", "show", "1"}},
		{"", []string{"platform", "show", "99"}},
		{"", []string{"platform", "show", "x"}},
		{"", []string{"platform", "check", "1"}},
		{"", []string{"deployment", "add", "1", "--deployment-id", "d1"}},
		{"", []string{"deployment", "remove", "1", "d9"}},
		{"", []string{"deployment", "remove", "1", "d1"}},
		{"", []string{"sync", "grades", "--wait"}},
		{"", []string{"sync", "members", "--wait"}},
		{"", []string{"sync", "grades"}},
		{"", []string{"sync", "grades", "--resource", "nope", "--wait"}},
		{"", []string{"user", "merge", "ada", "bea"}},
		{"", []string{"user", "merge", "ada", "nobody"}},
		{"", []string{"user", "merge", "ada", "ada", "--yes"}},
		{"", []string{"user", "delete", "bea"}},
		{"", []string{"user", "delete", "bea", "--yes"}},
		{"", []string{"platform", "delete", "1"}},
		{"", []string{"platform", "delete", "1", "--yes"}},
		{"", []string{"secrets", "new-key"}},
		{"", []string{"user", "frobnicate"}},
		{"", []string{"user", "show"}},
		{"", []string{"user", "show", "a", "b"}},
		{"", []string{"keys", "list", "extra"}},
	}
	// The published resource, once it exists, by its UUID.
	for _, s := range steps {
		args := s.args
		if args[0] != "user" || args[1] != "frobnicate" {
			if args[0] != "secrets" {
				args = append(append([]string(nil), args...), d...)
			}
		}
		out, errOut, _ := ltipubIn(t, dir, s.stdin, es, args...)
		if args[0] == "publish" && len(args) > 1 {
			if m := regexp.MustCompile(`id=([0-9a-f-]{36})`).FindStringSubmatch(out); m != nil {
				o, e, _ := ltipubIn(t, dir, "", es, append([]string{"published", "show", m[1]}, d...)...)
				out, errOut = out+o, errOut+e
			}
		}
		for _, line := range strings.Split(out+errOut, "\n") {
			if strings.HasPrefix(line, "time=") { // slog: for the logs, not for the operator
				continue
			}
			if k := rawKey.FindString(line); k != "" { // a message the catalog lacks shows its id
				t.Errorf("ltipub %s: the key %s instead of its message in %q", strings.Join(s.args, " "), k, line)
			}
			for _, p := range phrases {
				if strings.Contains(line, p.text) {
					t.Errorf("ltipub %s: English %q (%s) in %q", strings.Join(s.args, " "), p.text, p.key, line)
				}
			}
		}
	}
}

// rawKey is a catalog id shown in place of its message.
var rawKey = regexp.MustCompile(`\b(cli|validation|problem|platforms)\.[a-z_]+\.[A-Za-z_.]+`)

type phrase struct{ key, text string }

// englishPhrases are the runs of two or more words of cli.en.json's messages that cli.es.json does not use.
func englishPhrases(t *testing.T) []phrase {
	t.Helper()
	return areaPhrases(t, "cli")
}

// areaPhrases are englishPhrases of the catalog area locales/<area>.*.json.
func areaPhrases(t *testing.T, area string) []phrase {
	t.Helper()
	load := func(lang string) map[string]string {
		b, err := os.ReadFile(filepath.Join("..", "..", "internal", "i18n", "locales", area+"."+lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for k, v := range raw {
			var s string
			if json.Unmarshal(v, &s) != nil {
				var forms map[string]string
				if err := json.Unmarshal(v, &forms); err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				for _, f := range forms {
					s += f + "\n"
				}
			}
			out[k] = s
		}
		return out
	}
	en, es := load("en"), load("es")
	var all strings.Builder
	for _, v := range es {
		all.WriteString(v + "\n")
	}
	spanish := all.String()
	placeholder := regexp.MustCompile(`\{\{[^}]*\}\}|\n`)
	var out []phrase
	for k, v := range en {
		for _, part := range placeholder.Split(v, -1) {
			part = strings.Trim(part, " ,;:.()'`")
			if len(strings.Fields(part)) < 2 || strings.Contains(spanish, part) {
				continue
			}
			out = append(out, phrase{k, part})
		}
	}
	return out
}
