// Package platforms embeds the per-platform setup guides (the Markdown files next to this one), so that the tool
// details page shows the same text as the repository's docs: one source, never two that drift apart.
package platforms

import (
	"embed"
	"strings"
)

//go:embed *.md
var files embed.FS

// Guide is one platform's setup guide.
type Guide struct {
	Slug     string // file name without .md: moodle, canvas, …
	Title    string // the first heading
	Markdown string // the rest
}

// order is the order the tool details page lists the guides in: the platforms ltipub meets most often first.
var order = []string{"moodle", "canvas", "blackboard", "brightspace", "sakai", "schoology"}

// Guides returns every guide, in order.
func Guides() []Guide {
	out := make([]Guide, 0, len(order))
	for _, slug := range order {
		b, err := files.ReadFile(slug + ".md")
		if err != nil {
			panic("docs/platforms: " + slug + ".md is listed but not embedded") // a build mistake, caught by the tests
		}
		title, body, _ := strings.Cut(string(b), "\n")
		out = append(out, Guide{Slug: slug, Title: strings.TrimSpace(strings.TrimPrefix(title, "# ")), Markdown: body})
	}
	return out
}
