package web

import (
	"bytes"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// untranslatedTemplates are the templates still being translated, whose English words the scan lets through for
// now. Shrink it as they are done; a template off the list must take every word a person reads from the catalog.
var untranslatedTemplates = []string{}

// technicalWords may stand in a template as written: protocol and format names, product names, units. They read
// the same in every language (Moodle's Spanish pages write "LTI", "URL" and "Moodle" too).
var technicalWords = map[string]bool{
	"LTI": true, "OIDC": true, "URL": true, "URLs": true, "JSON": true, "JWKS": true, "ID": true, "UUID": true,
	"HTTP": true, "HTTPS": true, "https": true, "http": true, "Moodle": true, "Canvas": true, "Brightspace": true,
	"Blackboard": true, "Sakai": true, "ltipub": true, "GIFT": true, "XML": true, "CSV": true, "PDF": true,
	"KiB": true, "MiB": true, "GiB": true, "UTC": true, "OK": true, "AGS": true, "NRPS": true, "Markdown": true, "LMS": true,
	"es": true, // the example language code of the course form's placeholder
}

// humanAttributes are the attributes whose values a person reads (or hears from a screen reader).
var humanAttributes = map[string]bool{"title": true, "aria-label": true, "placeholder": true, "alt": true}

// codeElements hold code, commands and file contents, which stay as written.
var codeElements = map[string]bool{"code": true, "kbd": true, "samp": true, "pre": true, "script": true, "style": true}

var (
	action    = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	entity    = regexp.MustCompile(`&#?[A-Za-z0-9]+;`)
	urlLike   = regexp.MustCompile(`[a-z][a-z0-9+.-]*://\S*|/[A-Za-z0-9_./{}?=&-]+`)
	wordChars = regexp.MustCompile(`[\p{L}][\p{L}'’-]*`)
)

// untranslatedWords are the words of s that are not technical: "" when s is punctuation, numbers, URLs, entities
// and technicalWords only.
func untranslatedWords(s string) string {
	s = entity.ReplaceAllString(s, " ")
	s = urlLike.ReplaceAllString(s, " ")
	var bad []string
	for _, w := range wordChars.FindAllString(s, -1) {
		w = strings.Trim(w, "'’-")
		if w == "" || technicalWords[w] {
			continue
		}
		bad = append(bad, w)
	}
	return strings.Join(bad, " ")
}

// literalText finds the words a person reads that a template writes itself instead of taking them from the
// catalog: text between tags and the human attributes (title, aria-label, placeholder, alt, and the value of an
// input button, which is its label), with every {{…}} action blanked out. Each finding is "line: text".
func literalText(src []byte) []string { return literalTextFrom(src, 1) }

func literalTextFrom(src []byte, firstLine int) []string {
	// Blank the actions, keeping their newlines, so that what is left is HTML and offsets stay lines.
	blank := action.ReplaceAllFunc(src, func(b []byte) []byte {
		out := bytes.Map(func(r rune) rune {
			if r == '\n' {
				return r
			}
			return ' '
		}, b)
		return out
	})
	var found []string
	line := firstLine
	inCode := 0
	z := html.NewTokenizer(bytes.NewReader(blank))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return found
		}
		raw := z.Raw()
		start := line
		line += bytes.Count(raw, []byte("\n"))
		tok := z.Token()
		switch tt {
		case html.TextToken:
			if inCode > 0 {
				continue
			}
			// The content of noscript (and other raw-text elements) comes as one text token: scan the markup in it.
			if bytes.ContainsRune(raw, '<') && bytes.ContainsRune(raw, '>') {
				found = append(found, literalTextFrom(raw, start)...)
				continue
			}
			// The line of the text's first visible character.
			lead := len(raw) - len(bytes.TrimLeft(raw, " \t\r\n"))
			at := start + bytes.Count(raw[:lead], []byte("\n"))
			if w := untranslatedWords(tok.Data); w != "" {
				found = append(found, itoa(at)+": "+strings.Join(strings.Fields(tok.Data), " "))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			if codeElements[tok.Data] && tt == html.StartTagToken {
				inCode++
			}
			// A button's value is what its form sends; an input button's value is its label.
			button := false
			for _, a := range tok.Attr {
				if tok.Data == "input" && a.Key == "type" && (a.Val == "submit" || a.Val == "button" || a.Val == "reset") {
					button = true
				}
			}
			for _, a := range tok.Attr {
				if !humanAttributes[a.Key] && !(button && a.Key == "value") {
					continue
				}
				if w := untranslatedWords(a.Val); w != "" {
					at := start
					if i := bytes.Index(raw, []byte(a.Key+"=")); i >= 0 {
						at += bytes.Count(raw[:i], []byte("\n"))
					}
					found = append(found, itoa(at)+": "+a.Key+"=\""+strings.Join(strings.Fields(a.Val), " ")+"\"")
				}
			}
		case html.EndTagToken:
			if codeElements[tok.Data] && inCode > 0 {
				inCode--
			}
		}
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// TestTemplatesHaveNoLiteralText: every template takes the words a person reads from the catalogs ({{.T "key"}}),
// so that each page speaks the reader's language; technical words (LTI, URLs, product names) may stay. Templates
// still being translated are listed in untranslatedTemplates.
func TestTemplatesHaveNoLiteralText(t *testing.T) {
	var files []string
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".html") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) < 20 {
		t.Fatalf("templates: %v %v", files, err)
	}
	for _, f := range files {
		rel := strings.TrimPrefix(f, "templates/")
		if listed(rel) {
			continue
		}
		src, err := fs.ReadFile(templateFS, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range literalText(src) {
			t.Errorf("internal/web/%s:%s (English written into the template: take it from the catalog with {{.T \"key\"}})", f, at)
		}
	}
}

func listed(rel string) bool {
	for _, pat := range untranslatedTemplates {
		if ok, _ := path.Match(pat, rel); ok {
			return true
		}
	}
	return false
}

// TestLiteralTextScan: the scan finds English in text and in human attributes, with its line, and lets actions,
// code, URLs, entities and technical words through.
func TestLiteralTextScan(t *testing.T) {
	src := []byte(`<h1>{{.T "title"}}</h1>
<p>{{.T "intro" "Name" .Name}} &middot; LTI 1.3 · https://example.edu/x</p>
<button type="submit" title="{{.T "save"}}">{{.T "save"}}</button>
<p>Save {{.Name}}</p>
<input type="submit" value="Send">
<img alt="A chart" src="/x.png">
<code>ltipub serve --db x.db</code>
<a href="/help" aria-label="{{.T "help"}}">Moodle</a>
<button name="action" value="add">{{.T "add"}}</button>
<noscript><p>Continue</p></noscript>`)
	got := literalText(src)
	want := []string{`4: Save`, `5: value="Send"`, `6: alt="A chart"`, `10: Continue`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("findings %q, want %q", got, want)
	}
}
