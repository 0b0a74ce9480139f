package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestHelpCatalogIsTheEnglish checks that every command's Short, Long and Example and every flag's usage has its
// key in locales/clihelp.en.json with the very same English, so that another language never words an older help,
// and that the area holds no key the tree does not use.
func TestHelpCatalogIsTheEnglish(t *testing.T) {
	b, err := os.ReadFile("../i18n/locales/clihelp.en.json")
	if err != nil {
		t.Fatal(err)
	}
	var en map[string]string
	if err := json.Unmarshal(b, &en); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{"clihelp.flag.help": true, "clihelp.flag.version": true}
	for k := range en {
		if strings.HasPrefix(k, "clihelp.template.") {
			used[k] = true
		}
	}
	tr := english()
	root := Root(Env{})
	n := 0
	walkHelp(root, func(c *cobra.Command, base string) {
		n++
		for _, s := range [][2]string{{".short", c.Short}, {".long", c.Long}, {".example", c.Example}, {".use", c.Use}} {
			if _, ok := en[base+s[0]]; s[1] == "" || s[0] == ".use" && !ok {
				continue
			}
			if got, ok := en[base+s[0]]; !ok || got != s[1] {
				t.Errorf("%s: %q in the catalog, the command says %q", base+s[0], got, s[1])
			}
			used[base+s[0]] = true
		}
		helpFlags(c, func(f *pflag.Flag) {
			if f.Name == "help" || f.Name == "version" && !c.HasParent() {
				if want := tr.T("clihelp.flag."+f.Name, "Name", c.Name()); f.Usage != want {
					t.Errorf("%s --%s: %q, the catalog says %q", c.CommandPath(), f.Name, f.Usage, want)
				}
				return
			}
			k := helpFlagKey(tr, base, f)
			if k == "" || en[k] != f.Usage {
				t.Errorf("%s --%s: %q in the catalog (%s), the flag says %q", c.CommandPath(), f.Name, en[k], k, f.Usage)
			}
			used[k] = true
		})
	})
	if n < 30 {
		t.Fatalf("only %d commands", n)
	}
	for k := range en {
		if !used[k] {
			t.Errorf("%s: no command uses it", k)
		}
	}
	// The template usageTemplate translates is cobra's own.
	if got := (&cobra.Command{}).UsageTemplate(); got != defaultUsageTemplate {
		t.Errorf("cobra's usage template changed; update defaultUsageTemplate:\n%s", got)
	}
}

// TestSpanishHelpTemplate checks every English word of cobra's usage template is replaced in Spanish.
func TestSpanishHelpTemplate(t *testing.T) {
	tmpl := usageTemplate(printer("es_ES.UTF-8"))
	for _, w := range []string{"Usage:", "Aliases:", "Examples:", "Available Commands:", "Additional Commands:", "Flags:",
		"Additional help topics:", "[command]", "for more information"} {
		if strings.Contains(tmpl, w) {
			t.Errorf("%q left in the Spanish template:\n%s", w, tmpl)
		}
	}
}

// TestHelpValueNamesASCII checks the value names the Spanish usages quote (`archivo`) are ASCII: pflag aligns the
// usage column by bytes, so an accented name would push its line out of line.
func TestHelpValueNamesASCII(t *testing.T) {
	b, err := os.ReadFile("../i18n/locales/clihelp.es.json")
	if err != nil {
		t.Fatal(err)
	}
	var es map[string]string
	if err := json.Unmarshal(b, &es); err != nil {
		t.Fatal(err)
	}
	for k, v := range es {
		if !strings.Contains(k, ".flag.") {
			continue
		}
		if name, _ := pflag.UnquoteUsage(&pflag.Flag{Usage: v, Value: new(boolish)}); name != "" {
			for _, r := range name {
				if r > 127 {
					t.Errorf("%s: value name %q is not ASCII", k, name)
					break
				}
			}
		}
	}
}

type boolish struct{}

func (boolish) String() string   { return "" }
func (boolish) Set(string) error { return nil }
func (boolish) Type() string     { return "x" }
