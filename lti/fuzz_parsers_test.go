package lti

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for every parser of what platforms and browsers send: login initiation and authentication
// responses, AGS and NRPS pages with their Link headers, the platform's OpenID configuration and registration
// answer, and deep-linking requests. Seeds are shaped on what Moodle (4.x) and the spec's examples send; the
// corpus of interesting inputs lives in testdata/fuzz/<target>.

// fakePlatform answers every request with one canned response, so the service clients can be fuzzed without a
// network.
type fakePlatform struct {
	status int
	header http.Header
	body   []byte
}

func (p *fakePlatform) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: p.status, Header: p.header.Clone(), Body: io.NopCloser(bytes.NewReader(p.body)),
		Request: r, ContentLength: int64(len(p.body))}, nil
}

type fuzzTokens struct{}

func (fuzzTokens) Token(context.Context, []string) (ServiceToken, error) {
	return ServiceToken{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}, nil
}
func (fuzzTokens) Invalidate(context.Context, []string) error { return nil }

func fuzzClient(status int, contentType, link string, body []byte) *ServiceClient {
	h := http.Header{"Content-Type": {contentType}}
	if link != "" {
		h.Set("Link", link)
	}
	return &ServiceClient{HTTP: &http.Client{Transport: &fakePlatform{status: status, header: h, body: body}},
		Tokens: fuzzTokens{}, MaxPages: 3, MaxBody: 1 << 20, MaxPageBytes: 1 << 20}
}

const (
	moodleLogin = "iss=https%3A%2F%2Fmoodle.example.edu&target_link_uri=https%3A%2F%2Ftool.example.edu%2Flti%2Flaunch&" +
		"login_hint=2&lti_message_hint=%7B%22cmid%22%3A5%2C%22launchid%22%3A%22ltilaunch1_1%22%7D&client_id=aBcD1234&lti_deployment_id=1"
	moodleMembers = `{"id":"https://moodle.example.edu/mod/lti/services.php/CourseSection/2/bindings/1/memberships","context":` +
		`{"id":"2","label":"PHYS101","title":"Physics 101"},"members":[{"status":"Active","roles":["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],` +
		`"user_id":"2","lis_person_sourcedid":"","name":"Admin User","given_name":"Admin","family_name":"User","email":"admin@example.com"},` +
		`{"status":"Active","roles":["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],"user_id":"3","name":"Ada Lovelace","email":"ada@example.com",` +
		`"message":[{"https://purl.imsglobal.org/spec/lti/claim/message_type":"LtiResourceLinkRequest","https://purl.imsglobal.org/spec/lti/claim/custom":{"x":"1"}}]}]}`
	moodleNext      = `<https://moodle.example.edu/mod/lti/services.php/CourseSection/2/bindings/1/memberships?limit=2&from=2>; rel=“next”`
	moodleLineItems = `[{"id":"https://moodle.example.edu/mod/lti/services.php/2/lineitems/7/lineitem?type_id=1","label":"Quiz 1",` +
		`"scoreMaximum":10,"resourceLinkId":"5","tag":"","resourceId":"quiz-1","startDateTime":"2026-01-01T00:00:00+00:00"}]`
	moodleConfig = `{"issuer":"https://moodle.example.edu","token_endpoint":"https://moodle.example.edu/mod/lti/token.php",` +
		`"token_endpoint_auth_methods_supported":["private_key_jwt"],"token_endpoint_auth_signing_alg_values_supported":["RS256"],` +
		`"jwks_uri":"https://moodle.example.edu/mod/lti/certs.php","authorization_endpoint":"https://moodle.example.edu/mod/lti/auth.php",` +
		`"registration_endpoint":"https://moodle.example.edu/mod/lti/openid-registration.php","scopes_supported":["openid",` +
		`"https://purl.imsglobal.org/spec/lti-ags/scope/lineitem","https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"],` +
		`"response_types_supported":["id_token"],"subject_types_supported":["public","pairwise"],"id_token_signing_alg_values_supported":["RS256"],` +
		`"claims_supported":["sub","iss","name","given_name","family_name","email"],"https://purl.imsglobal.org/spec/lti-platform-configuration":` +
		`{"product_family_code":"moodle","version":"4.1","messages_supported":["LtiResourceLinkRequest","LtiDeepLinkingRequest"],"placements":["AddContentMenu"],` +
		`"variables":["basic-lti-launch-request","ContextSelectionRequest"]}}`
	moodleRegistered = `{"client_id":"aBcD1234","response_types":["id_token"],"jwks_uri":"https://tool.example.edu/lti/jwks",` +
		`"initiate_login_uri":"https://tool.example.edu/lti/login","grant_types":["client_credentials","implicit"],` +
		`"redirect_uris":["https://tool.example.edu/lti/launch"],"application_type":"web","token_endpoint_auth_method":"private_key_jwt",` +
		`"client_name":"ltipub","https://purl.imsglobal.org/spec/lti-tool-configuration":{"version":"1.3.0","deployment_id":"3",` +
		`"target_link_uri":"https://tool.example.edu/lti/launch","domain":"tool.example.edu","claims":["iss","sub"]}}`
)

func FuzzParseLoginInitiation(f *testing.F) {
	f.Add("POST", moodleLogin)
	f.Add("GET", moodleLogin+"&lti_storage_target=_parent")
	f.Add("GET", "iss=a&login_hint=&target_link_uri=%zz")
	f.Add("POST", "state=abc&id_token=eyJ.e30.x&error=invalid_request&error_description=oops")
	f.Fuzz(func(t *testing.T, method, form string) {
		for _, build := range []func() *http.Request{
			func() *http.Request {
				return &http.Request{Method: method, URL: &url.URL{Path: "/lti/login", RawQuery: form}, Header: http.Header{}}
			},
			func() *http.Request {
				r := &http.Request{Method: method, URL: &url.URL{Path: "/lti/login"}, Body: io.NopCloser(strings.NewReader(form)),
					Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}}
				return r
			},
		} {
			if li, err := ParseLoginInitiation(build()); err == nil && (li.Issuer == "" || li.LoginHint == "" || li.TargetLinkURI == "") {
				t.Fatalf("accepted a login initiation without its required parameters: %+v", li)
			}
			_, _ = ParseAuthResponse(build())
		}
	})
}

func FuzzNextLink(f *testing.F) {
	f.Add(moodleNext, "https://moodle.example.edu/x")
	f.Add(`<https://a.example/p?page=2>; rel="next", <https://a.example/p?page=9>; rel="last"`, "https://a.example/p")
	f.Add(`<../p2>; rel=next; title="a,b"`, "https://a.example/dir/p1")
	f.Add(`<>; rel="next"`, "")
	f.Fuzz(func(t *testing.T, link, base string) {
		// An unresolvable target comes back as it is, so that the next request fails loudly rather than a
		// listing ending early without a word; but there is no next link without a "next" relation.
		next := NextLink(http.Header{"Link": {link}}, base)
		if next != "" && !strings.Contains(strings.ToLower(link), "next") {
			t.Fatalf("NextLink found %q in a header without a next relation: %q", next, link)
		}
	})
}

func FuzzMembershipsPage(f *testing.F) {
	f.Add([]byte(moodleMembers), moodleNext)
	f.Add([]byte(`{"id":"x","members":[]}`), "")
	f.Add([]byte(`{"members":[{"user_id":"1","roles":[],"status":"Deleted"}],"context":{}}`), `<https://lms.example.edu/m?p=2>; rel="differences"`)
	f.Add([]byte(`{"members":[{"user_id":1}]}`), "")
	f.Fuzz(func(t *testing.T, body []byte, link string) {
		c := fuzzClient(http.StatusOK, MediaMembershipContainer, link, body)
		n := 0
		_, err := c.Memberships(context.Background(), "https://lms.example.edu/memberships", MembershipsQuery{}, func(ms []Member) error {
			n += len(ms)
			return nil
		})
		if err != nil && n > len(body) {
			t.Fatalf("more members than bytes: %d", n)
		}
	})
}

func FuzzLineItemsPage(f *testing.F) {
	f.Add([]byte(moodleLineItems), "")
	f.Add([]byte(moodleLineItems), `<https://moodle.example.edu/lineitems?from=1>; rel="next"`)
	f.Add([]byte(`[]`), "")
	f.Add([]byte(`[{"id":5,"scoreMaximum":"ten"}]`), "")
	f.Add([]byte(`{"id":"x"}`), "")
	f.Fuzz(func(t *testing.T, body []byte, link string) {
		c := fuzzClient(http.StatusOK, MediaLineItemContainer, link, body)
		_, _ = c.LineItems(context.Background(), "https://lms.example.edu/lineitems", LineItemQuery{})
		_, _ = c.Results(context.Background(), "https://lms.example.edu/lineitems/1/lineitem", "")
		_, _ = c.LineItem(context.Background(), "https://lms.example.edu/lineitems/1/lineitem")
	})
}

func FuzzPlatformConfiguration(f *testing.F) {
	f.Add([]byte(moodleConfig), []byte(moodleRegistered))
	f.Add([]byte(`{"issuer":"https://canvas.instructure.com","https://purl.imsglobal.org/spec/lti-platform-configuration":`+
		`{"product_family_code":"canvas","messages_supported":[{"type":"LtiResourceLinkRequest"},{"type":"LtiDeepLinkingRequest","placements":["assignment_selection"]}]}}`),
		[]byte(`{"client_id":"1"}`))
	f.Add([]byte(`{}`), []byte(`{}`))
	f.Add([]byte(`{"issuer":5}`), []byte(`[]`))
	f.Fuzz(func(t *testing.T, config, registered []byte) {
		ctx := context.Background()
		const configURL = "https://moodle.example.edu/mod/lti/openid-configuration.php"
		c := fuzzClient(http.StatusOK, "application/json", "", config)
		cfg, err := FetchPlatformConfiguration(ctx, c.HTTP, configURL, false)
		if err != nil {
			return
		}
		if cfg.Check(configURL, false) != nil {
			return
		}
		reg, err := cfg.ClientRegistration(ToolRegistration{Name: "ltipub", LoginURL: "https://tool.example.edu/lti/login",
			LaunchURL: "https://tool.example.edu/lti/launch", DeepLinkURL: "https://tool.example.edu/lti/deeplink",
			JWKSURL: "https://tool.example.edu/lti/jwks", Scopes: ToolScopes})
		if err != nil {
			return
		}
		rc := fuzzClient(http.StatusOK, "application/json", "", registered)
		if res, err := Register(ctx, rc.HTTP, "https://moodle.example.edu/register", "tok", reg); err == nil && res.ClientID == "" {
			t.Fatal("a registration answer without client_id was accepted")
		}
	})
}

func FuzzDeepLinkingRequest(f *testing.F) {
	seed := func(mut func(map[string]any)) string {
		c := deepLinkClaims()
		if mut != nil {
			mut(c)
		}
		b, _ := json.Marshal(c)
		return string(b)
	}
	f.Add(seed(nil))
	f.Add(seed(func(c map[string]any) {
		c[ClaimDeepLinkingSettings] = map[string]any{"deep_link_return_url": "https://lms.example.edu/return", "accept_types": []string{"ltiResourceLink", "link"},
			"accept_presentation_document_targets": []string{"iframe", "window"}, "accept_multiple": "true", "auto_create": true, "accept_lineitem": false, "data": "opaque"}
	}))
	f.Add(seed(func(c map[string]any) { c[ClaimDeepLinkingSettings] = "not an object" }))
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, claims string) {
		m, err := decodeClaims(base64.RawURLEncoding.EncodeToString([]byte(claims)))
		if err != nil {
			return
		}
		if checkRequired(m, testExpect()) != nil || m.DeepLinkingSettings == nil {
			return
		}
		st := m.DeepLinkingSettings
		_, _, _, _ = st.AcceptsType("ltiResourceLink"), st.AcceptsMultiple(), st.AcceptsLineItem(), st.AutoCreates()
		resp := NewDeepLinkingResponse(m, testClientID)
		if _, err := resp.Claims(testNow, "nonce"); err != nil {
			return
		}
	})
}
