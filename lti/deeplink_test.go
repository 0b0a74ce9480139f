package lti

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const cryptoSHA256 = crypto.SHA256

var base64RawURL = base64.RawURLEncoding

func TestDeepLinkingResponseGolden(t *testing.T) {
	v, _, want := newTestValidator(t, &memNonces{})
	req, err := v.Validate(context.Background(), sign(t, deepLinkClaims()), want)
	if err != nil {
		t.Fatal(err)
	}
	r := NewDeepLinkingResponse(req, testClientID)
	r.Items = []ContentItem{{
		Type:     ContentItemResourceLink,
		URL:      "https://tool.example.com/lti/launch",
		Title:    "Algebra, chapter 1",
		Text:     "Linear equations",
		Custom:   map[string]string{"ltipub_content": "c-123"},
		LineItem: &LineItem{ScoreMaximum: 100, Label: "Chapter 1 quiz", ResourceID: "c-123", Tag: "quiz"},
		Iframe:   &Iframe{Width: 800, Height: 600},
		Window:   &Window{TargetName: "ltipub"},
	}}
	r.Msg = "Added 1 item"
	claims, err := r.Claims(testNow, "fixed-nonce")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(claims)
	golden(t, "deeplink_response.golden.json", out)

	// Cancel: content_items present and empty, no data when none was sent.
	req.DeepLinkingSettings.Data = nil
	empty, err := NewDeepLinkingResponse(req, testClientID).Claims(testNow, "n")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(empty)
	if !strings.Contains(string(b), `"https://purl.imsglobal.org/spec/lti-dl/claim/content_items":[]`) ||
		strings.Contains(string(b), "claim/data") {
		t.Errorf("cancel response: %s", b)
	}

	// Signed form: RS256 with our kid, fresh nonce.
	key := testToolKey(t)
	tok, err := r.Sign(key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var got map[string]any
	_ = json.Unmarshal(payload, &got)
	if got["iss"] != testClientID || got["aud"] != testIssuer || got["nonce"] == "" || got["nonce"] == "fixed-nonce" ||
		got[ClaimDLData] != "opaque-123" {
		t.Errorf("signed claims: %v", got)
	}
}

func TestDeepLinkingResponseRejectsBadItems(t *testing.T) {
	base := DeepLinkingResponse{ClientID: "c", Issuer: "i", DeploymentID: "d"}
	bad := []DeepLinkingResponse{
		{Issuer: "i", DeploymentID: "d"},
		func() DeepLinkingResponse { r := base; r.Items = []ContentItem{{URL: "x"}}; return r }(),
		func() DeepLinkingResponse {
			r := base
			r.Items = []ContentItem{{Type: ContentItemResourceLink, LineItem: &LineItem{ScoreMaximum: 0}}}
			return r
		}(),
		func() DeepLinkingResponse { r := base; r.Data = json.RawMessage("{"); return r }(),
	}
	for i, r := range bad {
		if _, err := r.Claims(testNow, "n"); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
}
