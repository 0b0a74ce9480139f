package web

import (
	"bytes"
	"html/template"
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/i18n"
	"golang.org/x/text/language"
)

// TestLayoutReadsPageAsBefore renders the layouts ("layout", "embedded") as they are and as they were before
// they read the page through $p := .Page (testdata/layout_before: html/template looked every field up through
// the embedded Page, an allocating search each time), for pages that embed Page directly and through another
// struct, signed in or not, contained, with a return link, a flash, in both languages: the bytes are the same.
func TestLayoutReadsPageAsBefore(t *testing.T) {
	funcs := template.FuncMap{"static": staticURL, "admincrumbs": adminCrumbs}
	content := `{{define "content"}}<p>{{.T "layout.skip"}}</p>{{end}}`
	parse := func(fsys string, files ...string) *template.Template {
		t.Helper()
		tt := template.Must(template.New("").Funcs(funcs).Parse(content))
		for _, f := range files {
			tt = template.Must(tt.ParseFS(templateFS, fsys+f))
		}
		return tt
	}
	now := parse("templates/layout/", "layout.html", "embedded.html")
	before := template.Must(template.New("").Funcs(funcs).Parse(content))
	before = template.Must(before.ParseFiles("testdata/layout_before/layout.html", "testdata/layout_before/embedded.html"))

	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	admin := &account.User{ID: 1, Username: "admin", FullName: "Ada <Admin>", IsAdmin: true}
	student := &account.User{ID: 2, Username: "s&t"}
	var pages []Page
	for _, lang := range []language.Tag{i18n.Source, language.Spanish} {
		tr := cat.Printer(lang)
		for _, u := range []*account.User{nil, admin, student} {
			for _, path := range []string{"/", "/admin", "/admin/platforms", "/courses/3"} {
				pages = append(pages,
					Page{Title: "A <title> & more", User: u, Path: path, tr: tr},
					Page{Title: "Contained", User: u, Path: path, Contained: true, Flash: "Saved \"it\"", tr: tr,
						Return: returnLink{URL: "https://lms.example/course?id=1&x=<y>", Name: "Moodle & co"}})
			}
		}
	}
	for i, p := range pages {
		for _, data := range []pageData{&activityPage{Page: p}, &toolDetailsPage{platformPage: platformPage{Page: p}}} {
			for _, layout := range []string{"layout", "embedded"} {
				var a, b bytes.Buffer
				if err := now.ExecuteTemplate(&a, layout, data); err != nil {
					t.Fatalf("page %d, %s: %v", i, layout, err)
				}
				if err := before.ExecuteTemplate(&b, layout, data); err != nil {
					t.Fatalf("page %d, %s (before): %v", i, layout, err)
				}
				if a.String() != b.String() {
					t.Errorf("page %d (%T), %s: the layout renders\n%s\nwhere it rendered\n%s", i, data, layout, a.String(), b.String())
				}
			}
		}
	}
}
