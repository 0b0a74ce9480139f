// Package moodle reads what Moodle exports: GIFT and Moodle XML question files, and course backups (.mbz). It
// turns them into ltipub's course file format (internal/course), so that an import goes through the same checks
// and the same all-or-nothing store as a course file, and writes quizzes back as GIFT and Moodle XML.
//
// Moodle writes HTML. ltipub renders Markdown without raw HTML (course.RenderMarkdown), so HTML is converted to
// Markdown here: what Markdown can say (paragraphs, headings, emphasis, lists, tables, links, images, code,
// quotes) is kept, everything else is reduced to its text, and scripts, styles and frames are dropped with their
// content. Links and images keep only http, https and mailto destinations (images also data:image/...).
package moodle

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// imageFunc turns an image source of the original (such as @@PLUGINFILE@@/a.png) into the one to keep, or ""
// to drop the image.
type imageFunc func(src string) string

// HTMLToMarkdown converts Moodle HTML to the Markdown ltipub renders.
func HTMLToMarkdown(src string, images imageFunc) string {
	nodes, err := html.ParseFragment(strings.NewReader(src), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return escapeMarkdown(src)
	}
	c := &converter{images: images}
	var b strings.Builder
	for _, n := range nodes {
		c.block(&b, n)
	}
	return tidy(b.String())
}

// PlainText is the text of an HTML fragment, for places that hold plain text (choices, course summaries).
func PlainText(src string) string {
	if !strings.ContainsAny(src, "<&") {
		return strings.TrimSpace(src)
	}
	nodes, err := html.ParseFragment(strings.NewReader(src), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return strings.TrimSpace(src)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && dropped(n.DataAtom):
			return
		case n.Type == html.ElementNode && (n.DataAtom == atom.Br || n.DataAtom == atom.P || n.DataAtom == atom.Li || n.DataAtom == atom.Div):
			b.WriteString(" ")
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

type converter struct {
	images imageFunc
}

func dropped(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Iframe, atom.Object, atom.Embed, atom.Noscript, atom.Template, atom.Head,
		atom.Title, atom.Form, atom.Button, atom.Select, atom.Textarea, atom.Svg, atom.Math:
		return true
	}
	return false
}

// block writes n as Markdown blocks, separated by blank lines.
func (c *converter) block(b *strings.Builder, n *html.Node) {
	switch n.Type {
	case html.TextNode:
		if t := strings.TrimSpace(n.Data); t != "" {
			b.WriteString(escapeMarkdown(collapse(n.Data)))
		}
		return
	case html.ElementNode:
	default:
		return
	}
	if dropped(n.DataAtom) {
		return
	}
	switch n.DataAtom {
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Main, atom.Figure, atom.Figcaption, atom.Center:
		if hasBlockChild(n) {
			c.children(b, n)
			return
		}
		b.WriteString("\n\n" + strings.TrimSpace(c.inline(n)) + "\n\n")
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		level := int(n.Data[1] - '0')
		b.WriteString("\n\n" + strings.Repeat("#", level) + " " + strings.TrimSpace(c.inline(n)) + "\n\n")
	case atom.Ul, atom.Ol:
		b.WriteString("\n\n")
		c.list(b, n, "")
		b.WriteString("\n")
	case atom.Table:
		c.table(b, n)
	case atom.Pre:
		b.WriteString("\n\n```\n" + strings.Trim(textOf(n), "\n") + "\n```\n\n")
	case atom.Blockquote:
		var inner strings.Builder
		c.children(&inner, n)
		b.WriteString("\n\n")
		for _, line := range strings.Split(tidy(inner.String()), "\n") {
			b.WriteString(strings.TrimRight("> "+line, " ") + "\n")
		}
		b.WriteString("\n")
	case atom.Hr:
		b.WriteString("\n\n---\n\n")
	default:
		if hasBlockChild(n) {
			c.children(b, n)
			return
		}
		b.WriteString(c.inlineNode(n))
	}
}

func (c *converter) children(b *strings.Builder, n *html.Node) {
	var run []*html.Node // inline content between blocks makes one paragraph
	flush := func() {
		var p strings.Builder
		for _, r := range run {
			p.WriteString(c.inlineNode(r))
		}
		if t := strings.TrimSpace(p.String()); t != "" {
			b.WriteString("\n\n" + t + "\n\n")
		}
		run = run[:0]
	}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if isBlock(ch) {
			flush()
			c.block(b, ch)
		} else {
			run = append(run, ch)
		}
	}
	flush()
}

func isBlock(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	switch n.DataAtom {
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Main, atom.Figure, atom.Center,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Table, atom.Pre, atom.Blockquote, atom.Hr:
		return true
	}
	return false
}

func hasBlockChild(n *html.Node) bool {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if isBlock(ch) {
			return true
		}
	}
	return false
}

func (c *converter) list(b *strings.Builder, n *html.Node, indent string) {
	i := 1
	for li := n.FirstChild; li != nil; li = li.NextSibling {
		if li.Type != html.ElementNode || li.DataAtom != atom.Li {
			continue
		}
		marker := "- "
		if n.DataAtom == atom.Ol {
			marker = itoa(i) + ". "
		}
		i++
		var text strings.Builder
		var nested []*html.Node
		for ch := li.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type == html.ElementNode && (ch.DataAtom == atom.Ul || ch.DataAtom == atom.Ol) {
				nested = append(nested, ch)
				continue
			}
			if ch.Type == html.ElementNode && isBlock(ch) {
				text.WriteString(" " + c.inline(ch) + " ")
				continue
			}
			text.WriteString(c.inlineNode(ch))
		}
		b.WriteString(indent + marker + strings.TrimSpace(collapse(text.String())) + "\n")
		for _, sub := range nested {
			c.list(b, sub, indent+strings.Repeat(" ", len(marker)))
		}
	}
}

func (c *converter) table(b *strings.Builder, n *html.Node) {
	var rows [][]string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type != html.ElementNode {
				continue
			}
			if ch.DataAtom == atom.Tr {
				var row []string
				for cell := ch.FirstChild; cell != nil; cell = cell.NextSibling {
					if cell.Type == html.ElementNode && (cell.DataAtom == atom.Td || cell.DataAtom == atom.Th) {
						row = append(row, strings.ReplaceAll(strings.TrimSpace(collapse(c.inline(cell))), "|", `\|`))
					}
				}
				rows = append(rows, row)
				continue
			}
			walk(ch)
		}
	}
	walk(n)
	if len(rows) == 0 {
		return
	}
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	b.WriteString("\n\n")
	for i, r := range rows {
		for len(r) < cols {
			r = append(r, "")
		}
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
		if i == 0 {
			b.WriteString("|" + strings.Repeat(" --- |", cols) + "\n")
		}
	}
	b.WriteString("\n")
}

// inline writes n's children as inline Markdown.
func (c *converter) inline(n *html.Node) string {
	var b strings.Builder
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		b.WriteString(c.inlineNode(ch))
	}
	return b.String()
}

func (c *converter) inlineNode(n *html.Node) string {
	switch n.Type {
	case html.TextNode:
		return escapeMarkdown(collapse(n.Data))
	case html.ElementNode:
	default:
		return ""
	}
	if dropped(n.DataAtom) {
		return ""
	}
	switch n.DataAtom {
	case atom.Strong, atom.B:
		return wrap("**", c.inline(n))
	case atom.Em, atom.I:
		return wrap("*", c.inline(n))
	case atom.Del, atom.S, atom.Strike:
		return wrap("~~", c.inline(n))
	case atom.Code, atom.Kbd, atom.Samp:
		t := textOf(n)
		fence := "`"
		if strings.Contains(t, "`") {
			fence = "`` "
			return fence + t + " ``"
		}
		return fence + t + fence
	case atom.Br:
		return "  \n"
	case atom.A:
		text := strings.TrimSpace(c.inline(n))
		href := safeURL(attr(n, "href"), false)
		if href == "" {
			return text
		}
		if text == "" {
			text = escapeMarkdown(href)
		}
		return "[" + text + "](" + markdownURL(href) + ")"
	case atom.Img:
		src := attr(n, "src")
		if c.images != nil {
			src = c.images(src)
		}
		src = safeURL(src, true)
		if src == "" {
			if alt := attr(n, "alt"); alt != "" {
				return escapeMarkdown(alt)
			}
			return ""
		}
		return "![" + escapeMarkdown(attr(n, "alt")) + "](" + markdownURL(src) + ")"
	}
	return c.inline(n)
}

// wrap puts emphasis marks around text, outside its spaces (Markdown ignores "** a**").
func wrap(mark, s string) string {
	t := strings.TrimSpace(s)
	if t == "" {
		return s
	}
	lead := s[:strings.Index(s, t)]
	trail := s[len(lead)+len(t):]
	return lead + mark + t + mark + trail
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return strings.TrimSpace(a.Val)
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(n)
	return b.String()
}

// safeURL keeps http, https and mailto links (and data:image/ sources for images); anything else is dropped.
func safeURL(u string, image bool) string {
	l := strings.ToLower(u)
	switch {
	case strings.HasPrefix(l, "https://"), strings.HasPrefix(l, "http://"), !image && strings.HasPrefix(l, "mailto:"):
		return u
	case image && (strings.HasPrefix(l, "data:image/png;") || strings.HasPrefix(l, "data:image/jpeg;") ||
		strings.HasPrefix(l, "data:image/gif;") || strings.HasPrefix(l, "data:image/webp;")):
		return u
	}
	return ""
}

func markdownURL(u string) string {
	r := strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E")
	return r.Replace(u)
}

func collapse(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		if s != "" {
			return " "
		}
		return ""
	}
	out := strings.Join(f, " ")
	if s[0] == ' ' || s[0] == '\n' || s[0] == '\t' || s[0] == '\r' {
		out = " " + out
	}
	if e := s[len(s)-1]; e == ' ' || e == '\n' || e == '\t' || e == '\r' {
		out += " "
	}
	return out
}

// escapeMarkdown keeps text literal in Markdown: characters that would start emphasis, links, code or HTML are
// escaped.
func escapeMarkdown(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "#", `\#`, "|", `\|`)
	return r.Replace(s)
}

// tidy trims each line's end and leaves at most one blank line between blocks.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	blank := true
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if strings.TrimSpace(l) == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, l)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
