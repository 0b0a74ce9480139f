package cli

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ltipub/ltipub/internal/i18n"
)

// The command and flag help (Short, Long, Example, flag usages, cobra's usage words) is worded by the catalog's
// clihelp area (locales/clihelp.*): clihelp.<command path>.short/.long/.example (and .use
// for a use line with a placeholder to word) (clihelp.ltipub.* for the root,
// a dash in a name an underscore), clihelp.<command path>.flag.<flag> or, for a flag worded alike wherever it is,
// clihelp.flag.<flag>. The English stays in the commands themselves and is what an English operator reads, byte
// for byte (TestHelpCatalogIsTheEnglish checks the catalog's English is the same); another language replaces it
// when Root builds the tree, since the locale is known once per process before that.

// walkHelp calls fn with every command of the tree and the base of its help's catalog keys.
func walkHelp(root *cobra.Command, fn func(c *cobra.Command, base string)) {
	var walk func(c *cobra.Command, base string)
	walk = func(c *cobra.Command, base string) {
		fn(c, base)
		for _, sub := range c.Commands() {
			walk(sub, base+"."+keyWord(sub.Name()))
		}
	}
	fn(root, "clihelp.ltipub")
	for _, sub := range root.Commands() {
		walk(sub, "clihelp."+keyWord(sub.Name()))
	}
}

func keyWord(name string) string { return strings.ReplaceAll(name, "-", "_") }

// helpFlags are the flags a command's help lists as its own: cobra's --help (and the root's --version), which
// cobra adds only when it runs, are added here first so that they can be worded too.
func helpFlags(c *cobra.Command, fn func(f *pflag.Flag)) {
	c.InitDefaultHelpFlag()
	if !c.HasParent() {
		c.InitDefaultVersionFlag()
	}
	c.LocalNonPersistentFlags().VisitAll(fn)
	c.PersistentFlags().VisitAll(fn)
}

// helpFlagKey is the catalog key of flag f's usage on the command whose keys start with base ("" when the
// catalog has none); help and version are worded alike everywhere, with the command's name.
func helpFlagKey(tr *i18n.Printer, base string, f *pflag.Flag) string {
	for _, k := range []string{base + ".flag." + keyWord(f.Name), "clihelp.flag." + keyWord(f.Name)} {
		if tr.Has(k) {
			return k
		}
	}
	return ""
}

// localizeHelp words root's help in tr's language; in the source language it leaves the tree as it is.
func localizeHelp(root *cobra.Command, tr *i18n.Printer) {
	if tr == nil || tr.Tag() == i18n.Source {
		return
	}
	text := func(key, english string) string {
		if english == "" || !tr.Has(key) {
			return english
		}
		return tr.T(key)
	}
	walkHelp(root, func(c *cobra.Command, base string) {
		c.Short = text(base+".short", c.Short)
		c.Long = text(base+".long", c.Long)
		c.Example = text(base+".example", c.Example)
		// A use line's placeholders ("help [command]"), where the catalog has them; the name stays the first word.
		if use := text(base+".use", c.Use); strings.HasPrefix(use, c.Name()+" ") {
			c.Use = use
		}
		helpFlags(c, func(f *pflag.Flag) {
			k := helpFlagKey(tr, base, f)
			switch {
			case f.Name == "help" || f.Name == "version" && !c.HasParent():
				f.Usage = tr.T("clihelp.flag."+f.Name, "Name", c.Name())
			case k != "":
				f.Usage = tr.T(k)
			}
		})
	})
	root.SetUsageTemplate(usageTemplate(tr))
}

// usageTemplate is cobra's usage template with its words in tr's language; its structure stays cobra's.
func usageTemplate(tr *i18n.Printer) string {
	t := defaultUsageTemplate
	r := strings.NewReplacer(
		"Usage:", tr.T("clihelp.template.usage"),
		// cobra's UseLine ends in " [flags]" when the command has flags.
		"{{.UseLine}}", "{{ltipubFlagsWord .UseLine "+strconv.Quote(tr.T("clihelp.template.flags_word"))+"}}",
		"Aliases:", tr.T("clihelp.template.aliases"),
		"Examples:", tr.T("clihelp.template.examples"),
		"Available Commands:", tr.T("clihelp.template.available_commands"),
		"Additional Commands:", tr.T("clihelp.template.additional_commands"),
		"Global Flags:", tr.T("clihelp.template.global_flags"),
		"Flags:", tr.T("clihelp.template.flags"),
		"Additional help topics:", tr.T("clihelp.template.additional_help_topics"),
		"{{.CommandPath}} [command]{{end}}", "{{.CommandPath}} "+tr.T("clihelp.template.command")+"{{end}}",
		`Use "{{.CommandPath}} [command] --help" for more information about a command.`,
		tr.T("clihelp.template.more_information", "Command", "{{.CommandPath}}"),
		// pflag writes (default "x") after a flag's usage; the word is the operator's.
		"{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}",
		"{{ltipubDefaultWord (.LocalFlags.FlagUsages | trimTrailingWhitespaces) "+strconv.Quote(tr.T("clihelp.template.default"))+"}}",
		"{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}",
		"{{ltipubDefaultWord (.InheritedFlags.FlagUsages | trimTrailingWhitespaces) "+strconv.Quote(tr.T("clihelp.template.default"))+"}}",
	)
	return r.Replace(t)
}

func init() {
	cobra.AddTemplateFunc("ltipubDefaultWord", func(usages, word string) string {
		return strings.ReplaceAll(usages, " (default ", " ("+word+" ")
	})
	cobra.AddTemplateFunc("ltipubFlagsWord", func(line, word string) string {
		if rest, ok := strings.CutSuffix(line, " [flags]"); ok {
			return rest + " " + word
		}
		return line
	})
}

// defaultUsageTemplate is cobra's (v1.10) usage template, the words usageTemplate translates.
const defaultUsageTemplate = `Usage:{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}{{$cmds := .Commands}}{{if eq (len .Groups) 0}}

Available Commands:{{range $cmds}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{else}}{{range $group := .Groups}}

{{.Title}}{{range $cmds}}{{if (and (eq .GroupID $group.ID) (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if not .AllChildCommandsHaveGroup}}

Additional Commands:{{range $cmds}}{{if (and (eq .GroupID "") (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasHelpSubCommands}}

Additional help topics:{{range .Commands}}{{if .IsAdditionalHelpTopicCommand}}
  {{rpad .CommandPath .CommandPathPadding}} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableSubCommands}}

Use "{{.CommandPath}} [command] --help" for more information about a command.{{end}}
`
