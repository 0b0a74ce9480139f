package platforms

import (
	"io/fs"
	"slices"
	"strings"
	"testing"
)

// TestGuides checks that every guide is listed and names where each of ltipub's URLs goes: a guide that forgets
// the JWKS URL leaves the admin stuck halfway.
func TestGuides(t *testing.T) {
	md, err := fs.Glob(files, "*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range md {
		if !slices.Contains(order, strings.TrimSuffix(f, ".md")) {
			t.Errorf("%s is embedded but not listed in order", f)
		}
	}
	for _, g := range Guides() {
		text := strings.Join(strings.Fields(g.Markdown), " ") // Markdown wraps lines anywhere
		if g.Title == "" {
			t.Errorf("%s: no title", g.Slug)
		}
		for _, want := range []string{"Tool URL", "Initiate login URL", "JWKS URL", "Deep linking URL", "After ltipub says Active",
			"Check this registration", "Add to gradebook"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: does not mention %q", g.Slug, want)
			}
		}
	}
}

// TestMoodleGuide pins the Moodle settings whose defaults break ltipub (issue 16): each was found the hard way.
func TestMoodleGuide(t *testing.T) {
	g := Guides()[0]
	text := strings.Join(strings.Fields(g.Markdown), " ")
	for _, want := range []string{
		"Show in activity chooser and as a preconfigured tool",
		"Use this service for grade sync and column management",
		"Use this service to retrieve members' information as per privacy settings",
		"Tool Settings",
		"Share launcher's name with tool | **Always**",
		"Share launcher's email with tool | **Always**",
		"**Activate**",
		"`id=<uuid>`",
		"Moodle 4.3 and later",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("moodle.md does not say %q", want)
		}
	}
}
