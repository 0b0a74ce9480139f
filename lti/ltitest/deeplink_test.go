package ltitest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestDeepLinkRoundTrip(t *testing.T) {
	p, ft := newPlatformAndTool(t)
	ctx := context.Background()
	spec := LaunchSpec{MessageType: MessageDeepLinkingRequest, User: &User{Sub: "teacher"}, Roles: []string{RoleInstructor},
		Context: &Context{ID: "c1", Title: "Course"}}
	res, err := p.Launch(ctx, newJarClient(t), spec)
	if err != nil || res.Response.StatusCode != 200 {
		t.Fatalf("DL launch: %v %s", err, res.Body)
	}
	c := ft.lastClaims()
	settings := c[ClaimDeepLinkingSettings].(map[string]any)
	if c[ClaimMessageType] != MessageDeepLinkingRequest || c[ClaimResourceLink] != nil || settings["accept_multiple"] != true {
		t.Fatalf("DL claims: %v", c)
	}
	ret, data := settings["deep_link_return_url"].(string), settings["data"].(string)
	jwtStr := ft.sign(ft.dlResponse(c, data, []any{map[string]any{
		"type": "ltiResourceLink", "title": "Chapter 1", "url": ft.srv.URL + "/launch?c=1",
		"custom":   map[string]any{"content_id": "ch1"},
		"lineItem": map[string]any{"scoreMaximum": 25, "label": "Chapter 1 quiz", "resourceId": "ch1", "tag": "quiz"},
	}}))
	resp, body := do(t, "POST", ret, "", "", "application/x-www-form-urlencoded", url.Values{"JWT": {jwtStr}}.Encode())
	if resp.StatusCode != 200 || !strings.Contains(string(body), `<p id="items">1</p>`) {
		t.Fatalf("return: %d %s", resp.StatusCode, body)
	}
	links := p.Links("c1")
	items := p.LineItems("c1")
	if len(links) != 1 || len(items) != 1 || links[0].LineItemURL != items[0].ID || items[0].ScoreMaximum != 25 ||
		items[0].ResourceID != "ch1" || items[0].Tag != "quiz" || items[0].ResourceLinkID != links[0].ID || links[0].Custom["content_id"] != "ch1" {
		t.Fatalf("links %+v items %+v", links, items)
	}
	// Replaying the response is refused.
	if resp, _ := do(t, "POST", ret, "", "", "application/x-www-form-urlencoded", url.Values{"JWT": {jwtStr}}.Encode()); resp.StatusCode != 400 {
		t.Fatalf("replayed DL response: %d", resp.StatusCode)
	}

	// Launch the stored link: coupled line item and custom come along.
	ls, err := p.LaunchSpecForLink(links[0].ID, &User{Sub: "s1"}, RoleLearner)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := p.Launch(ctx, newJarClient(t), ls); err != nil || res.Response.StatusCode != 200 {
		t.Fatalf("link launch: %v %s", err, res.Body)
	}
	c = ft.lastClaims()
	if field(c, ClaimAGSEndpoint, "lineitem") != items[0].ID || field(c, ClaimCustom, "content_id") != "ch1" ||
		field(c, ClaimResourceLink, "id") != links[0].ID || c[ClaimTargetLinkURI] != ft.srv.URL+"/launch?c=1" {
		t.Fatalf("link launch claims: %v", c)
	}
}

// dlResponse builds deep-linking response claims for a request's claims.
func (ft *fakeTool) dlResponse(req map[string]any, data string, items []any) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": ft.clientID, "aud": ft.p.Issuer(), "iat": now, "exp": now.Add(5 * time.Minute), "nonce": randomID(8),
		ClaimDeploymentID: req[ClaimDeploymentID], ClaimMessageType: MessageDeepLinkingResponse, ClaimVersion: LTIVersion,
		ClaimDLContentItems: items, ClaimDLMsg: "added",
	}
	if data != "" {
		c[ClaimDLData] = data
	}
	return c
}

func TestDeepLinkReturnRefusals(t *testing.T) {
	p, ft := newPlatformAndTool(t)
	link := map[string]any{"type": "ltiResourceLink", "title": "A"}
	tests := []struct {
		name string
		dl   *DeepLinking
		edit func(c map[string]any)
		form func(jwt string) url.Values
		want string
	}{
		{"ok", nil, func(map[string]any) {}, nil, ""},
		{"no JWT field", nil, func(map[string]any) {}, func(j string) url.Values { return url.Values{"jwt": {j}} }, "oauth_consumer_key"},
		{"data changed", nil, func(c map[string]any) { c[ClaimDLData] = "other" }, nil, "data claim"},
		{"data dropped", nil, func(c map[string]any) { delete(c, ClaimDLData) }, nil, "data claim missing"},
		{"data invented", &DeepLinking{OmitData: true}, func(c map[string]any) { c[ClaimDLData] = "x" }, nil, "sent none"},
		{"aud is client", nil, func(c map[string]any) { c["aud"] = ft.clientID }, nil, "aud"},
		{"iss not client", nil, func(c map[string]any) { c["iss"] = ft.p.Issuer() }, nil, "iss"},
		{"deployment", nil, func(c map[string]any) { c[ClaimDeploymentID] = "dep-2" }, nil, "deployment_id"},
		{"message type", nil, func(c map[string]any) { c[ClaimMessageType] = MessageDeepLinkingRequest }, nil, "message_type"},
		{"version", nil, func(c map[string]any) { c[ClaimVersion] = "1.1" }, nil, "version"},
		{"no nonce", nil, func(c map[string]any) { delete(c, "nonce") }, nil, "nonce"},
		{"expired", nil, func(c map[string]any) {
			c["iat"], c["exp"] = time.Now().Add(-time.Hour), time.Now().Add(-30*time.Minute)
		}, nil, "expired"},
		{"type not accepted", nil, func(c map[string]any) {
			c[ClaimDLContentItems] = []any{map[string]any{"type": "html", "html": "<b>x</b>"}}
		}, nil, "accept_types"},
		{"multiple refused", &DeepLinking{Multiple: new(false)}, func(c map[string]any) {
			c[ClaimDLContentItems] = []any{link, link}
		}, nil, "accept_multiple"},
		{"bad scoreMaximum", nil, func(c map[string]any) {
			c[ClaimDLContentItems] = []any{map[string]any{"type": "ltiResourceLink", "lineItem": map[string]any{"scoreMaximum": 0}}}
		}, nil, "scoreMaximum"},
		{"custom not strings", nil, func(c map[string]any) {
			c[ClaimDLContentItems] = []any{map[string]any{"type": "ltiResourceLink", "custom": map[string]any{"n": 1}}}
		}, nil, "custom.n"},
		{"items not array", nil, func(c map[string]any) { c[ClaimDLContentItems] = link }, nil, "array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := LaunchSpec{MessageType: MessageDeepLinkingRequest, Context: &Context{ID: "c1"}, DeepLinking: tt.dl}
			tok, err := p.MintIDToken(spec, "n")
			if err != nil {
				t.Fatal(err)
			}
			var req map[string]any
			pb, _ := b64.DecodeString(strings.Split(tok, ".")[1])
			_ = json.Unmarshal(pb, &req)
			settings := req[ClaimDeepLinkingSettings].(map[string]any)
			data, _ := settings["data"].(string)
			c := ft.dlResponse(req, data, []any{link})
			tt.edit(c)
			j := ft.sign(c)
			form := url.Values{"JWT": {j}}
			if tt.form != nil {
				form = tt.form(j)
			}
			resp, body := do(t, http.MethodPost, settings["deep_link_return_url"].(string), "", "", "application/x-www-form-urlencoded", form.Encode())
			recs := p.DeepLinkReturns()
			last := recs[len(recs)-1]
			if tt.want == "" {
				if resp.StatusCode != 200 || last.Err != "" || last.Msg != "added" {
					t.Fatalf("want success, got %d %s (%s)", resp.StatusCode, body, last.Err)
				}
				return
			}
			if resp.StatusCode != 400 || !strings.Contains(last.Err, tt.want) {
				t.Fatalf("want 400 mentioning %q, got %d: %s", tt.want, resp.StatusCode, last.Err)
			}
		})
	}
}
