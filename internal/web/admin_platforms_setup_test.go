package web_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
)

// TestPlatformSetupGuides checks that the tool details page carries the complete per-platform guides, Moodle's
// settings whose defaults break ltipub among them, and the Canvas configuration URL.
func TestPlatformSetupGuides(t *testing.T) {
	t.Parallel()
	inst, _ := ltiSetup(t, apptest.Options{})
	c := adminClient(t, inst)
	id, _ := createPlatform(t, inst, c, "Campus LMS")
	page := inst.Get(t, c, "/admin/platforms/"+strconv.FormatInt(id, 10))
	for _, want := range []string{
		`id="guide-moodle" open`, `id="guide-canvas"`, `id="guide-blackboard"`, `id="guide-brightspace"`, `id="guide-sakai"`, `id="guide-schoology"`,
		"Show in activity chooser and as a preconfigured tool",
		"Use this service for grade sync and column management",
		"Use this service to retrieve members' information as per privacy settings",
		"<strong>Activate</strong>",
		`value="` + inst.URL + `/lti/config/canvas.json"`,
	} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("tool details page lacks %s", want)
		}
	}
	if strings.Contains(page.Body, "&lt;table") || strings.Contains(page.Body, "&lt;strong") {
		t.Error("a guide's Markdown was escaped instead of rendered")
	}
}

// TestCanvasConfigURL fetches the Canvas configuration as Canvas does: anonymously, as JSON, with ltipub's URLs.
func TestCanvasConfigURL(t *testing.T) {
	t.Parallel()
	inst, _ := ltiSetup(t, apptest.Options{})
	r := inst.Get(t, inst.Client(t), "/lti/config/canvas.json")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("canvas.json: %d %s %s", r.StatusCode, r.Header.Get("Content-Type"), r.Body)
	}
	var cfg struct {
		OIDCInitiationURL string `json:"oidc_initiation_url"`
		TargetLinkURI     string `json:"target_link_uri"`
		PublicJWKURL      string `json:"public_jwk_url"`
		Extensions        []struct {
			Platform string `json:"platform"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal([]byte(r.Body), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.OIDCInitiationURL != inst.URL+"/lti/login" || cfg.TargetLinkURI != inst.URL+"/lti/launch" ||
		cfg.PublicJWKURL != inst.URL+"/lti/jwks" || len(cfg.Extensions) != 1 || cfg.Extensions[0].Platform != "canvas.instructure.com" {
		t.Fatalf("canvas.json: %s", r.Body)
	}
}
