package lti2_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/lti/lti2"
)

// Fuzz targets for what an LTI 2.0 platform sends: the registration request form and the tool consumer profile.
// Seeds are shaped on Moodle's and Canvas's.

const (
	moodleRegistration = "lti_message_type=ToolProxyRegistrationRequest&lti_version=LTI-2p0&reg_key=8b5f7b1e-1c2d&reg_password=0f4c2a9e&" +
		"tc_profile_url=https%3A%2F%2Fmoodle.example.edu%2Fmod%2Flti%2Fservices.php%2Fprofile%2F8b5f7b1e%3Flti_version%3DLTI-2p0&" +
		"launch_presentation_return_url=https%3A%2F%2Fmoodle.example.edu%2Fmod%2Flti%2Fregistrationreturn.php%3Fid%3D1%26sesskey%3Dx"
	canvasProfile = `{"lti_version":"LTI-2p0","guid":"339b6700","capability_offered":["basic-lti-launch-request","User.id","OAuth.splitSecret"],` +
		`"@context":["http://purl.imsglobal.org/ctx/lti/v2/ToolConsumerProfile",{"tcp":"https://canvas.example/api/lti/courses/1/tool_consumer_profile/339b6700#"}],` +
		`"@type":"ToolConsumerProfile","@id":"https://canvas.example/api/lti/courses/1/tool_consumer_profile/339b6700",` +
		`"product_instance":{"guid":"07adb3e6.canvas","product_info":{"product_name":{"default_value":"Canvas by Instructure"},"product_version":"none",` +
		`"product_family":{"code":"canvas","vendor":{"code":"https://instructure.com","vendor_name":{"default_value":"Instructure"}}}},` +
		`"service_owner":{"service_owner_name":{"default_value":"Example University"}}},` +
		`"service_offered":[{"endpoint":"https://canvas.example/api/lti/courses/1/tool_proxy","action":["POST"],"@id":"tcp:ToolProxy.collection",` +
		`"@type":"RestService","format":["application/vnd.ims.lti.v2.toolproxy+json"]},` +
		`{"endpoint":"https://canvas.example/api/lti/tool_proxy/{tool_proxy_guid}","action":["GET"],"@id":"#ToolProxy.item","@type":"RestService","format":"application/vnd.ims.lti.v2.toolproxy+json"}]}`
)

func FuzzParseRegistration(f *testing.F) {
	f.Add(moodleRegistration)
	f.Add(strings.Replace(moodleRegistration, "LTI-2p0", "LTI-1p0", 1))
	f.Add("lti_message_type=ToolProxyReregistrationRequest&lti_version=LTI-2p0")
	f.Fuzz(func(t *testing.T, form string) {
		v, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		r, err := lti2.ParseRegistration(v)
		if err != nil {
			return
		}
		if r.Key == "" || r.Password == "" || r.ProfileURL == "" || r.ReturnURL == "" {
			t.Fatalf("accepted without a required parameter: %+v", r)
		}
		if _, err := lti2.ReturnURL(r.ReturnURL, false, "", "x"); err != nil {
			t.Fatalf("accepted return URL %q cannot take a status: %v", r.ReturnURL, err)
		}
	})
}

func FuzzProfile(f *testing.F) {
	f.Add([]byte(canvasProfile))
	f.Add([]byte(`{"@context":"http://purl.imsglobal.org/ctx/lti/v2/ToolConsumerProfile","capability_offered":["basic-lti-launch-request"],"service_offered":[]}`))
	f.Add([]byte(`{"@type":"ToolConsumerProfile","@context":[{"x":1}],"service_offered":[{"@id":"x:y","format":["a"],"action":"POST"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := lti2.ParseProfile(body, "https://lms.example/profile")
		if err != nil {
			return
		}
		for _, s := range p.ServiceOffered {
			_ = p.ServiceID(s)
		}
		prop, err := lti2.Propose(p, lti2.Tool{BaseURL: "https://tool.example", Handlers: []lti2.Handler{{Code: "h", Name: "H", Path: "/lti/legacy/h",
			Capabilities: lti2.LaunchCapabilities}}})
		if err != nil {
			return
		}
		if !p.Offers(lti2.MessageLaunch) || prop.Endpoint == "" {
			t.Fatalf("proposed to a profile without launches or a ToolProxy endpoint: %+v", prop)
		}
		sc := prop.ToolProxy.SecurityContract
		if (sc.SharedSecret == "") == (sc.TPHalfSharedSecret == "") {
			t.Fatalf("the contract has not exactly one secret: %+v", sc)
		}
		for _, c := range prop.ToolProxy.ToolProfile.ResourceHandler[0].Message[0].EnabledCapability {
			if !p.Offers(c) {
				t.Fatalf("enabled %s, which the profile does not offer", c)
			}
		}
	})
}

func TestProfileServiceIDs(t *testing.T) {
	p, err := lti2.ParseProfile([]byte(canvasProfile), "https://canvas.example/x")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://canvas.example/api/lti/courses/1/tool_consumer_profile/339b6700#ToolProxy.collection",
		"https://canvas.example/api/lti/courses/1/tool_consumer_profile/339b6700#ToolProxy.item"}
	for i, s := range p.ServiceOffered {
		if got := p.ServiceID(s); got != want[i] {
			t.Errorf("service %d: %s, want %s", i, got, want[i])
		}
	}
	prop, err := lti2.Propose(p, lti2.Tool{BaseURL: "https://tool.example", Handlers: []lti2.Handler{{Code: "h", Name: "H", Path: "/p"}}})
	if err != nil || !prop.Split || len(prop.ToolProxy.SecurityContract.TPHalfSharedSecret) != 128 || prop.Outcomes ||
		prop.ToolProxy.SecurityContract.ToolService[0].Service != want[0] {
		t.Fatalf("%+v %v", prop, err)
	}
}
