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
