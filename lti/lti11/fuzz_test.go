package lti11_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/lti/lti11"
)

// Fuzz targets for what LTI 1.1 consumers send: launch forms, OAuth 1.0a parameters, Authorization headers and
// signature base strings, Basic Outcomes (POX) XML and the memberships extension's XML. Seeds are shaped on
// Moodle's LTI 1.1 launches and answers and the OAuth 1.0a spec's examples; the corpus of interesting inputs
// lives in testdata/fuzz/<target>.

const (
	moodleLaunch = "oauth_version=1.0&oauth_nonce=3b4d5c6a7e8f&oauth_timestamp=1714000000&oauth_consumer_key=moodle-site&" +
		"user_id=2&lis_person_sourcedid=&roles=Instructor%2Curn%3Alti%3Asysrole%3Aims%2Flis%2FAdministrator&context_id=2&" +
		"context_label=PHYS101&context_title=Physics+101&resource_link_title=Quiz&resource_link_description=&resource_link_id=5&" +
		"context_type=CourseSection&lis_course_section_sourcedid=&lis_result_sourcedid=%7B%22data%22%3A%7B%22instanceid%22%3A%225%22%2C%22userid%22%3A%222%22%7D%7D&" +
		"lis_outcome_service_url=https%3A%2F%2Fmoodle.example.edu%2Fmod%2Flti%2Fservice.php&lis_person_name_given=Admin&" +
		"lis_person_name_family=User&lis_person_name_full=Admin+User&ext_user_username=admin&lis_person_contact_email_primary=admin%40example.com&" +
		"launch_presentation_locale=en&ext_lms=moodle-2&tool_consumer_info_product_family_code=moodle&tool_consumer_info_version=2024042200&" +
		"oauth_callback=about%3Ablank&lti_version=LTI-1p0&lti_message_type=basic-lti-launch-request&tool_consumer_instance_guid=moodle.example.edu&" +
		"tool_consumer_instance_name=Moodle&launch_presentation_document_target=iframe&launch_presentation_return_url=https%3A%2F%2Fmoodle.example.edu%2Fmod%2Flti%2Freturn.php%3Fcourse%3D2&" +
		"ext_memberships_id=abc%3A%3A%3A2&ext_memberships_url=https%3A%2F%2Fmoodle.example.edu%2Fmod%2Flti%2Fservice.php&" +
		"oauth_signature_method=HMAC-SHA1&oauth_signature=TNq3SnlZtxj896G%2FqbuEHk5Wv1o%3D"
	poxReplace = `<?xml version="1.0" encoding="UTF-8"?><imsx_POXEnvelopeRequest xmlns="http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0">` +
		`<imsx_POXHeader><imsx_POXRequestHeaderInfo><imsx_version>V1.0</imsx_version><imsx_messageIdentifier>999999123</imsx_messageIdentifier>` +
		`</imsx_POXRequestHeaderInfo></imsx_POXHeader><imsx_POXBody><replaceResultRequest><resultRecord><sourcedGUID><sourcedId>3124567</sourcedId>` +
		`</sourcedGUID><result><resultScore><language>en</language><textString>0.92</textString></resultScore></result></resultRecord>` +
		`</replaceResultRequest></imsx_POXBody></imsx_POXEnvelopeRequest>`
	poxResponse = `<?xml version="1.0" encoding="UTF-8"?><imsx_POXEnvelopeResponse xmlns="http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0">` +
		`<imsx_POXHeader><imsx_POXResponseHeaderInfo><imsx_version>V1.0</imsx_version><imsx_messageIdentifier>4560</imsx_messageIdentifier>` +
		`<imsx_statusInfo><imsx_codeMajor>success</imsx_codeMajor><imsx_severity>status</imsx_severity><imsx_description>Score for 3124567 is now 0.92</imsx_description>` +
		`<imsx_messageRefIdentifier>999999123</imsx_messageRefIdentifier><imsx_operationRefIdentifier>replaceResult</imsx_operationRefIdentifier></imsx_statusInfo>` +
		`</imsx_POXResponseHeaderInfo></imsx_POXHeader><imsx_POXBody><replaceResultResponse/></imsx_POXBody></imsx_POXEnvelopeResponse>`
	moodleMemberships = `<?xml version="1.0" encoding="UTF-8"?><message_response><lti_message_type>basic-lis-readmembershipsforcontext</lti_message_type>` +
		`<statusinfo><codemajor>Success</codemajor><severity>Status</severity><codeminor>fullsuccess</codeminor><description>Roster retrieved</description></statusinfo>` +
		`<members><member><user_id>2</user_id><roles>Instructor</roles><person_sourcedid></person_sourcedid><person_contact_email_primary>admin@example.com</person_contact_email_primary>` +
		`<person_name_given>Admin</person_name_given><person_name_family>User</person_name_family><person_name_full>Admin User</person_name_full>` +
		`<lis_result_sourcedid>{"data":{"instanceid":"5","userid":"2"}}</lis_result_sourcedid></member></members></message_response>`
)

func FuzzParseLaunch(f *testing.F) {
	f.Add(moodleLaunch)
	f.Add("lti_message_type=ContentItemSelectionRequest&lti_version=LTI-1p0")
	f.Add("lti_message_type=basic-lti-launch-request&lti_version=LTI-1p0&resource_link_id=&roles=urn%3Alti%3Arole%3Aims%2Flis%2FLearner")
	f.Add("%zz=1&&=&a")
	f.Fuzz(func(t *testing.T, form string) {
		v, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		l, err := lti11.ParseLaunch(v)
		if (l == nil) == (err == nil) {
			t.Fatalf("ParseLaunch returned %v and %v", l, err)
		}
		if err := lti11.CheckOAuthParams(lti11.FromValues(v)); err == nil && v.Get("oauth_consumer_key") == "" {
			t.Fatal("OAuth parameters without a consumer key passed")
		}
	})
}

func FuzzOAuthBaseString(f *testing.F) {
	f.Add("POST", "https://tool.example.com/lti/legacy/0b3c9e1a-8f7e-4c52-9d0b-1e2f3a4b5c6d", moodleLaunch,
		`OAuth realm="",oauth_consumer_key="moodle-site",oauth_nonce="abc",oauth_signature="x%3D"`)
	f.Add("GET", "http://EXAMPLE.com:80/r%20v/X?id=123&a=b#frag", "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=", `OAuth oauth_body_hash="Lve95gjOVATpfV8EL5X4nxwjKHE%3D"`)
	f.Add("post", "https://[::1]:443/p", "=&&oauth_signature_method=HMAC-SHA1", "Bearer x")
	f.Add("PUT", "https://lms.example.edu/outcomes", "oauth_body_hash=2jmj7l5rSw0yVb%2FvlWAYkK%2FYBwk%3D&oauth_signature_method=HMAC-SHA256", "OAuth ")
	f.Fuzz(func(t *testing.T, method, rawURL, form, header string) {
		v, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		ps := lti11.FromValues(v)
		base, err := lti11.BaseString(method, rawURL, ps)
		if err == nil {
			// (net/http only hands over methods that are tokens, never with an "&" in them.)
			if !strings.Contains(method, "&") && strings.Count(base, "&") != 2 {
				t.Fatalf("a base string is three parts joined by &, not %q", base)
			}
			sig, err := lti11.Signature(ps.Get("oauth_signature_method"), base, "secret", "")
			if err == nil && !lti11.SignatureMatches(method, rawURL, append(ps, lti11.Pairs("oauth_signature", sig)...), "secret") && ps.Get("oauth_signature") == "" {
				t.Fatalf("a signature made over %q does not verify", base)
			}
		}
		if hps, err := lti11.ParseAuthorization(header); err == nil {
			_ = lti11.AuthorizationHeader(hps)
		}
	})
}

func FuzzParsePOX(f *testing.F) {
	f.Add([]byte(poxReplace))
	f.Add([]byte(poxResponse))
	f.Add([]byte(strings.Replace(poxReplace, "replaceResultRequest", "readResultRequest", 2)))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><imsx_POXEnvelopeRequest>&a;</imsx_POXEnvelopeRequest>`))
	f.Add([]byte(`<imsx_POXEnvelopeResponse><imsx_POXHeader>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if r, err := lti11.ParsePOXRequest(body); err == nil && r.Operation == "" {
			t.Fatal("a POX request without an operation was accepted")
		}
		_, _ = lti11.ParsePOXResponse(body)
	})
}

type cannedRT struct {
	status int
	body   []byte
}

func (c cannedRT) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: c.status, Header: http.Header{"Content-Type": {"application/xml"}},
		Body: io.NopCloser(bytes.NewReader(c.body)), Request: r}, nil
}

func FuzzMembershipsXML(f *testing.F) {
	f.Add([]byte(moodleMemberships))
	f.Add([]byte(`<message_response><statusinfo><codemajor>Failure</codemajor><description>no</description></statusinfo></message_response>`))
	f.Add([]byte(`<message_response><statusinfo><codemajor>Success</codemajor></statusinfo><members><member/></members></message_response>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := &lti11.MembershipsClient{HTTP: &http.Client{Transport: cannedRT{status: 200, body: body}},
			Signer: &lti11.Signer{ConsumerKey: "k", Secret: "s"}, MaxBytes: 1 << 20}
		ms, err := c.ReadMemberships(context.Background(), "https://moodle.example.edu/mod/lti/service.php", "abc:::2")
		if err == nil {
			for _, m := range ms {
				_ = m.RoleList()
			}
		}
	})
}
