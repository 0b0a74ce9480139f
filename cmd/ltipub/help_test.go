package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/cli"
)

var updateHelp = flag.Bool("update-help", false, "rewrite testdata/help/*.txt from the current English help")

// commandPaths are the words of every command of the tree, the root first: [], [serve], [user create], …
func commandPaths() [][]string {
	var out [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		out = append(out, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(cli.Root(cli.Env{}), nil)
	return out
}

func helpGolden(path []string) string {
	return filepath.Join("testdata", "help", strings.Join(append([]string{"ltipub"}, path...), "_")+".txt")
}

// TestEnglishHelpUnchanged compares `ltipub <command> --help`, in English, with the help as it was before the
// help was worded by the catalog (testdata/help, written with -update-help): the English stays byte for byte.
func TestEnglishHelpUnchanged(t *testing.T) {
	paths := commandPaths()
	if len(paths) < 30 {
		t.Fatalf("only %d commands", len(paths))
	}
	dir := t.TempDir()
	for _, p := range paths {
		out, errOut, code := ltipub(t, dir, append(append([]string(nil), p...), "--help")...)
		if code != 0 || errOut != "" {
			t.Errorf("ltipub %s --help: exit %d, stderr %q", strings.Join(p, " "), code, errOut)
		}
		golden := helpGolden(p)
		if *updateHelp {
			if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Errorf("ltipub %s --help: %v", strings.Join(p, " "), err)
			continue
		}
		if out != string(want) {
			t.Errorf("ltipub %s --help differs from %s:\n%s", strings.Join(p, " "), golden, out)
		}
	}
}

// TestSpanishHelpHasNoEnglish runs `ltipub <command> --help` (and `ltipub help <command>`) for every command with
// LANG=es_ES.UTF-8 and fails when a phrase of the help's English catalog (locales/clihelp.en.json) shows, or one
// of cobra's single English words: the help's counterpart of TestSpanishOutputHasNoEnglish. Command and flag
// names, and the command lines of examples, are the same in both languages and do not count.
func TestSpanishHelpHasNoEnglish(t *testing.T) {
	phrases := areaPhrases(t, "clihelp")
	if len(phrases) < 100 {
		t.Fatalf("only %d English phrases in the help catalog: the scan would find little", len(phrases))
	}
	words := []string{"Usage:", "Flags:", "Aliases:", "Examples:", "[command]", "[flags]", "(default ", "help for ", "version for ",
		" duration ", " string "} // the last two: pflag names a flag's value by its type unless the usage quotes a name
	dir := t.TempDir()
	es := []string{"LANG=es_ES.UTF-8"}
	for _, p := range commandPaths() {
		for _, args := range [][]string{append(append([]string(nil), p...), "--help"), append([]string{"help"}, p...)} {
			out, errOut, code := ltipubIn(t, dir, "", es, args...)
			name := strings.Join(args, " ")
			if code != 0 || errOut != "" {
				t.Errorf("ltipub %s: exit %d, stderr %q", name, code, errOut)
			}
			if !strings.Contains(out, "Uso:") {
				t.Errorf("ltipub %s: no \"Uso:\" in\n%s", name, out)
			}
			for _, line := range strings.Split(out, "\n") {
				if k := rawKey.FindString(line); k != "" || strings.Contains(line, "clihelp.") {
					t.Errorf("ltipub %s: a key instead of its message in %q", name, line)
				}
				for _, p := range phrases {
					if strings.Contains(line, p.text) {
						t.Errorf("ltipub %s: English %q (%s) in %q", name, p.text, p.key, line)
					}
				}
				for _, w := range words {
					if strings.Contains(line, w) {
						t.Errorf("ltipub %s: English %q in %q", name, w, line)
					}
				}
			}
		}
	}
}
