package launch

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ltipub/ltipub/internal/tool"
)

// TestIDTokenDetailStoredAsItCame: the launch log keeps an id_token's header and claims without decoding them
// first; read back, the inspector gets the same claims as a decoding would have given, and a token whose parts
// are not JSON objects keeps none (as before), with what the registration expects either way.
func TestIDTokenDetailStoredAsItCame(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	header := `{"alg":"RS256","kid":"k1","typ":"JWT"}`
	claims := ` {"iss":"https://platform.example","aud":["c1"],"nonce":"n<&>","https://purl.imsglobal.org/spec/lti/claim/custom":{"id":"x"},"exp":1764590000}`
	reg := tool.Registration{ID: 3, Issuer: "https://platform.example", ClientID: "c1", JWKSURL: "https://platform.example/jwks",
		Deployments: []tool.Deployment{{DeploymentID: "d1"}}}
	tests := []struct {
		name                   string
		token                  string
		wantHeader, wantClaims string // "" for none
	}{
		{"a signed token", enc(header) + "." + enc(claims) + ".sig", header, claims},
		{"claims not an object", enc(header) + "." + enc(`["a"]`) + ".sig", header, ""},
		{"claims not JSON", enc(header) + "." + enc(`{"iss":`) + ".sig", header, ""},
		{"not base64", "%%%." + enc(claims) + ".sig", "", claims},
		{"two parts", enc(header) + "." + enc(claims), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(idTokenDetail(tt.token, reg))
			if err != nil {
				t.Fatal(err)
			}
			var got Detail
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("stored detail %s does not decode: %v", b, err)
			}
			decoded := func(s string) map[string]any {
				if s == "" {
					return nil
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(s), &m); err != nil {
					t.Fatal(err)
				}
				return m
			}
			if !reflect.DeepEqual(got.Header, decoded(tt.wantHeader)) || !reflect.DeepEqual(got.Claims, decoded(tt.wantClaims)) {
				t.Errorf("read back: header %v claims %v; want %s and %s", got.Header, got.Claims, tt.wantHeader, tt.wantClaims)
			}
			want := map[string]string{"iss": reg.Issuer, "client_id": "c1", "jwks_url": reg.JWKSURL, "deployment_ids": "d1"}
			if got.Version != "1.3" || !reflect.DeepEqual(got.Expected, want) {
				t.Errorf("read back: version %q expected %v", got.Version, got.Expected)
			}
		})
	}
}

// TestDetailEncodingAsJSONMarshalWrites: the launch log stores Detail.MarshalJSON's output as it is, so it must be
// what json.Marshal gives for the same detail (compact, HTML-escaped, header and claims after the other fields),
// for claims sent with spaces, line breaks and characters json.Marshal escapes.
func TestDetailEncodingAsJSONMarshalWrites(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	reg := tool.Registration{ID: 3, Issuer: "https://platform.example", ClientID: "c1", JWKSURL: "https://platform.example/jwks",
		Deployments: []tool.Deployment{{DeploymentID: "d1"}}}
	for _, claims := range []string{
		`{"sub":"a"}`,
		" {\n  \"sub\": \"a <b> & c\",\n  \"name\": \"x\u2028y\",\n  \"n\": [1, 2.50, {\"k\": null}]\n}\n",
	} {
		d := idTokenDetail(enc(`{"alg":"RS256", "kid":"k1"}`)+"."+enc(claims)+".sig", reg)
		d.Did = &Did{Outcome: "landed", UserID: 7}
		got, err := d.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		type plain Detail
		want, err := json.Marshal(struct {
			plain
			Header json.RawMessage `json:"header,omitempty"`
			Claims json.RawMessage `json:"claims,omitempty"`
		}{plain(*d), json.RawMessage(`{"alg":"RS256", "kid":"k1"}`), json.RawMessage(claims)})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("MarshalJSON:\n got %s\nwant %s", got, want)
		}
		if again, err := json.Marshal(d); err != nil || string(again) != string(want) {
			t.Errorf("json.Marshal of the detail: %s, %v", again, err)
		}
	}
}

// BenchmarkLaunchDetail is what a launch spends on its log row's detail: reading the id_token's header and claims
// (idTokenDetail) and encoding the row's JSON the way the store does (MarshalJSON), against json.Marshal of the
// same detail, which validates and compacts the claims again.
//
//	go test -run XXX -bench BenchmarkLaunchDetail -benchmem ./internal/launch/
func BenchmarkLaunchDetail(b *testing.B) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	claims := `{"iss":"https://platform.example","sub":"bench-1","aud":"client-1","exp":1764590000,"iat":1764589700,` +
		`"nonce":"a1b2c3d4e5f6","name":"Bench User","email":"b1@example.edu",` +
		`"https://purl.imsglobal.org/spec/lti/claim/message_type":"LtiResourceLinkRequest",` +
		`"https://purl.imsglobal.org/spec/lti/claim/version":"1.3.0",` +
		`"https://purl.imsglobal.org/spec/lti/claim/deployment_id":"d1",` +
		`"https://purl.imsglobal.org/spec/lti/claim/target_link_uri":"http://127.0.0.1:8080/lti/launch",` +
		`"https://purl.imsglobal.org/spec/lti/claim/roles":["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],` +
		`"https://purl.imsglobal.org/spec/lti/claim/context":{"id":"ctx-1","label":"C1","title":"Course one"},` +
		`"https://purl.imsglobal.org/spec/lti/claim/resource_link":{"id":"rl-1","title":"Quiz"},` +
		`"https://purl.imsglobal.org/spec/lti/claim/custom":{"id":"0f7c2a9e-4d1b-4c3a-9e8f-1a2b3c4d5e6f"},` +
		`"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint":{"scope":["https://purl.imsglobal.org/spec/lti-ags/scope/score"],` +
		`"lineitems":"https://platform.example/ags/ctx-1/lineitems"},` +
		`"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice":{"context_memberships_url":"https://platform.example/nrps/ctx-1",` +
		`"service_versions":["2.0"]}}`
	token := enc(`{"alg":"RS256","kid":"k1","typ":"JWT"}`) + "." + enc(claims) + ".sig"
	reg := tool.Registration{ID: 3, Issuer: "https://platform.example", ClientID: "client-1", JWKSURL: "https://platform.example/jwks",
		Deployments: []tool.Deployment{{DeploymentID: "d1"}}}
	b.Run("MarshalJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d := idTokenDetail(token, reg)
			if _, err := d.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d := idTokenDetail(token, reg)
			if _, err := json.Marshal(d); err != nil {
				b.Fatal(err)
			}
		}
	})
}
