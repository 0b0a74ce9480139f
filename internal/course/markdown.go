package course

import (
	"bytes"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// markdown renders without html.WithUnsafe: raw HTML in the source is dropped, and links and images with
// dangerous schemes (javascript:, vbscript:, file:, data: other than images) get an empty destination. That is
// what makes a teacher's page safe to show to students.
var markdown = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify))

// RenderMarkdown turns a page's Markdown into safe HTML.
func RenderMarkdown(src string) template.HTML {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(buf.String()) //nolint:gosec // goldmark in safe mode escapes raw HTML and unsafe links
}
