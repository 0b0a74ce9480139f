package lti

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPlatformConfigurationShapes(t *testing.T) {
	// Moodle lists messages as strings with placements at the top level; the spec uses objects.
	moodle := `{"issuer":"https://moodle.example.edu","https://purl.imsglobal.org/spec/lti-platform-configuration":
		{"product_family_code":"moodle","version":"4.1","messages_supported":["LtiResourceLinkRequest","LtiDeepLinkingRequest"],
		 "placements":["AddContentMenu"]}}`
	spec := `{"issuer":"https://canvas.instructure.com","https://purl.imsglobal.org/spec/lti-platform-configuration":
		{"product_family_code":"canvas","messages_supported":[{"type":"LtiResourceLinkRequest"},
		 {"type":"LtiDeepLinkingRequest","placements":["assignment_selection"]}]}}`
	for _, tt := range []struct {
		name, doc, family, placement string
	}{{"moodle strings", moodle, "moodle", "AddContentMenu"}, {"spec objects", spec, "canvas", "assignment_selection"}} {
		var c PlatformConfiguration
		if err := json.Unmarshal([]byte(tt.doc), &c); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if c.LTI.ProductFamilyCode != tt.family || !c.SupportsMessage("LtiDeepLinkingRequest") {
			t.Fatalf("%s: %+v", tt.name, c.LTI)
		}
		reg, err := c.ClientRegistration(ToolRegistration{Name: "ltipub", LaunchURL: "https://tool.example.com/lti/launch",
			DeepLinkURL: "https://tool.example.com/lti/deeplink", Scopes: ToolScopes})
		if err != nil {
			t.Fatal(err)
		}
		dl := reg.ToolConfiguration.Messages[1]
		if dl.Type != "LtiDeepLinkingRequest" || dl.Placements[0] != tt.placement || reg.ToolConfiguration.Domain != "tool.example.com" ||
			reg.ToolConfiguration.CustomParameters == nil || len(reg.RedirectURIs) != 2 {
			t.Fatalf("%s: registration %+v", tt.name, reg)
		}
	}
}

func TestPlatformConfigurationCheck(t *testing.T) {
	full := func(iss, family string) *PlatformConfiguration {
		return &PlatformConfiguration{Issuer: iss, AuthorizationEndpoint: "https://a.example/auth", TokenEndpoint: "https://a.example/token",
			JWKSURI: "https://a.example/jwks", RegistrationEndpoint: "https://a.example/register",
			LTI: PlatformLTIConfiguration{ProductFamilyCode: family}}
	}
	tests := []struct {
		name      string
		cfg       *PlatformConfiguration
		configURL string
		allowHTTP bool
		want      Code
	}{
		{"moodle wwwroot with a path", full("https://lms.example.edu/moodle", "moodle"), "https://lms.example.edu/moodle/mod/lti/openid-configuration.php", false, ""},
		{"same origin", full("https://lms.example.edu", "sakai"), "https://lms.example.edu/imsblis/lti13/well_known", false, ""},
		{"hosted canvas", full("https://canvas.instructure.com", "canvas"), "https://school.instructure.com/api/lti/security/openid-configuration", false, ""},
		{"canvas issuer from elsewhere", full("https://canvas.instructure.com", "canvas"), "https://evil.example/openid-configuration", false, CodeDRIssuerMismatch},
		{"other origin", full("https://lms.example.edu", "moodle"), "https://other.example.edu/config", false, CodeDRIssuerMismatch},
		{"outside the issuer's path", full("https://lms.example.edu/moodle", "moodle"), "https://lms.example.edu/other/config", false, CodeDRIssuerMismatch},
		{"http without allowHTTP", full("http://lms.example.edu", "moodle"), "http://lms.example.edu/config", false, CodeDRConfigInvalid},
		{"http with allowHTTP", full("http://lms.example.edu", "moodle"), "http://lms.example.edu/config", true, ""},
		{"no registration endpoint", func() *PlatformConfiguration {
			c := full("https://l.example", "")
			c.RegistrationEndpoint = ""
			return c
		}(),
			"https://l.example/c", false, CodeDRConfigInvalid},
		{"no RS256", func() *PlatformConfiguration {
			c := full("https://l.example", "")
			c.IDTokenSigningAlgValuesSupported = []string{"HS256"}
			return c
		}(), "https://l.example/c", false, CodeDRUnsupported},
		{"no private_key_jwt", func() *PlatformConfiguration {
			c := full("https://l.example", "")
			c.TokenEndpointAuthMethodsSupported = []string{"client_secret_basic"}
			return c
		}(), "https://l.example/c", false, CodeDRUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Check(tt.configURL, tt.allowHTTP)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			if !errors.Is(err, &Error{Code: tt.want}) {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
}

func TestRegisterShowsThePlatformsError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_redirect_uri","error_description":"redirect must be https"}`))
	}))
	defer srv.Close()
	_, err := Register(context.Background(), srv.Client(), srv.URL, "tok", ClientRegistration{})
	var le *Error
	if !errors.As(err, &le) || le.Code != CodeDRRejected || !strings.Contains(le.Description, "HTTP 400") ||
		!strings.Contains(le.Description, "redirect must be https") {
		t.Fatalf("got %v", err)
	}
}
