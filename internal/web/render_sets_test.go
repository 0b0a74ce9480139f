package web

import "testing"

// TestPageSetsHoldWhatTheyCall checks that each page's template set, which holds only the layout files the page
// reaches (parseTemplates), defines every template that any template of the set calls.
func TestPageSetsHoldWhatTheyCall(t *testing.T) {
	ts, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	for name, set := range ts.pages {
		for _, want := range []string{"layout", "embedded"} {
			if set.Lookup(want) == nil {
				t.Errorf("page %s: no template %q", name, want)
			}
		}
		for _, d := range set.Templates() {
			if d.Tree == nil {
				continue
			}
			for _, called := range templateCalls(d.Tree.Root, nil) {
				if set.Lookup(called) == nil {
					t.Errorf("page %s: template %q calls %q, which is not in the page's set", name, d.Name(), called)
				}
			}
		}
	}
}
