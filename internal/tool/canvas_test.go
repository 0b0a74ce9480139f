package tool

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// canvasDocumented lists, per object, the fields Canvas documents for a developer key's JSON configuration
// ("Anatomy of a JSON configuration" and the placements pages), and which of them Canvas requires. A field
// outside this list would be ignored by Canvas at best; a missing required one makes "Enter URL" fail.
var canvasDocumented = map[string]struct{ known, required []string }{
	"": {known: []string{"title", "description", "oidc_initiation_url", "target_link_uri", "public_jwk_url", "public_jwk",
		"scopes", "extensions", "custom_fields"},
		required: []string{"title", "description", "oidc_initiation_url", "target_link_uri", "public_jwk_url"}},
	"extensions[]": {known: []string{"domain", "tool_id", "platform", "privacy_level", "settings"},
		required: []string{"platform", "settings"}},
	"settings": {known: []string{"text", "icon_url", "selection_height", "selection_width", "placements"},
		required: []string{"placements"}},
	"placements[]": {known: []string{"placement", "message_type", "target_link_uri", "text", "icon_url", "enabled",
		"default", "selection_height", "selection_width", "canvas_icon_class", "windowTarget", "custom_fields"},
		required: []string{"placement", "message_type"}},
}

func checkFields(t *testing.T, where string, obj map[string]any) {
	t.Helper()
	doc := canvasDocumented[where]
	for k := range obj {
		if !slices.Contains(doc.known, k) {
			t.Errorf("%s: field %q is not one Canvas documents", where, k)
		}
	}
	for _, k := range doc.required {
		if v, ok := obj[k]; !ok || v == "" {
			t.Errorf("%s: required field %q missing or empty", where, k)
		}
	}
}

func TestCanvasConfiguration(t *testing.T) {
	s := &Service{BaseURL: "https://ltipub.example.edu"}
	b, err := json.MarshalIndent(s.CanvasConfiguration(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	golden := filepath.Join("testdata", "canvas.golden.json")
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("configuration differs from %s (go test ./internal/tool -run Canvas -update, then review the diff):\n%s", golden, b)
	}

	// Check the golden file itself against Canvas's documented shape, so that -update cannot bless a wrong one.
	var doc map[string]any
	if err := json.Unmarshal(want, &doc); err != nil {
		t.Fatal(err)
	}
	checkFields(t, "", doc)
	for _, k := range []string{"oidc_initiation_url", "target_link_uri", "public_jwk_url"} {
		if v, _ := doc[k].(string); !strings.HasPrefix(v, "https://ltipub.example.edu/lti/") {
			t.Errorf("%s = %q, want one of ltipub's /lti/ URLs", k, v)
		}
	}
	scopes, _ := doc["scopes"].([]any)
	for _, want := range []string{"https://purl.imsglobal.org/spec/lti-ags/scope/lineitem", "https://purl.imsglobal.org/spec/lti-ags/scope/score",
		"https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"} {
		if !slices.Contains(scopes, any(want)) {
			t.Errorf("scopes lack %s", want)
		}
	}
	exts, _ := doc["extensions"].([]any)
	if len(exts) != 1 {
		t.Fatalf("extensions = %v, want one canvas.instructure.com block", exts)
	}
	ext := exts[0].(map[string]any)
	checkFields(t, "extensions[]", ext)
	if ext["platform"] != "canvas.instructure.com" {
		t.Errorf("platform = %v", ext["platform"])
	}
	if !slices.Contains([]any{"public", "name_only", "email_only", "anonymous"}, ext["privacy_level"]) {
		t.Errorf("privacy_level = %v, not a level Canvas knows", ext["privacy_level"])
	}
	settings := ext["settings"].(map[string]any)
	checkFields(t, "settings", settings)
	// Message types Canvas accepts per placement: selections take deep linking, navigation a resource link.
	wantType := map[string]string{"link_selection": "LtiDeepLinkingRequest", "assignment_selection": "LtiDeepLinkingRequest",
		"course_navigation": "LtiResourceLinkRequest"}
	seen := map[string]bool{}
	for _, p := range settings["placements"].([]any) {
		pl := p.(map[string]any)
		checkFields(t, "placements[]", pl)
		name, _ := pl["placement"].(string)
		seen[name] = true
		if want, ok := wantType[name]; !ok || pl["message_type"] != want {
			t.Errorf("placement %s: message_type %v, want %s", name, pl["message_type"], want)
		}
		target, _ := pl["target_link_uri"].(string)
		if pl["message_type"] == "LtiDeepLinkingRequest" && target != "https://ltipub.example.edu/lti/deeplink" {
			t.Errorf("placement %s: target_link_uri %q, want the deep linking URL", name, target)
		}
	}
	for name := range wantType {
		if !seen[name] {
			t.Errorf("no %s placement", name)
		}
	}
	if _, ok := doc["custom_fields"].(map[string]any); !ok {
		t.Errorf("custom_fields must be an object")
	}
}
