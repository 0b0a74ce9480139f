package moodle_test

import (
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/course/moodle"
)

func TestHTMLToMarkdownIsSafe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, html, want string
	}{
		{"paragraphs and emphasis", "<p>A <strong>bold</strong> and <em>quiet</em> word.</p><p>Next</p>", "A **bold** and *quiet* word.\n\nNext"},
		{"script dropped with its text", `<p>Hi</p><script>alert(1)</script><style>p{}</style>`, "Hi"},
		{"javascript link loses its destination", `<a href="javascript:alert(1)">click</a>`, "click"},
		{"event handlers are not kept", `<p onclick="alert(1)"><img src="https://x.test/a.png" onerror="alert(2)" alt="pic"></p>`, "![pic](https://x.test/a.png)"},
		{"iframe and form dropped", `<iframe src="https://evil.test"></iframe><form><input name="x"></form><p>ok</p>`, "ok"},
		{"raw HTML in text stays text", `<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`, `\<script\>alert(1)\</script\>`},
		{"markdown characters are escaped", `<p>*not emphasis* and [not](a link) # nor a heading</p>`, `\*not emphasis\* and \[not\](a link) \# nor a heading`},
		{"nested list", `<ul><li>one<ul><li>inner</li></ul></li><li>two</li></ul>`, "- one\n  - inner\n- two"},
		{"data image other than a picture dropped", `<img src="data:text/html;base64,PHNjcmlwdD4=" alt="x">`, "x"},
		{"headings and rule", `<h2>Title</h2><hr><p>x</p>`, "## Title\n\n---\n\nx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := moodle.HTMLToMarkdown(tt.html, nil)
			if got != tt.want {
				t.Fatalf("HTMLToMarkdown(%q) = %q, want %q", tt.html, got, tt.want)
			}
			out := string(course.RenderMarkdown(got))
			for _, bad := range []string{"<script", "javascript:", "onerror", "onclick", "<iframe", "<form", "data:text"} {
				if strings.Contains(out, bad) {
					t.Fatalf("rendered %q contains %s", out, bad)
				}
			}
		})
	}
}
