package lti2_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
	"github.com/ltipub/ltipub/lti/lti11/lti11test"
	"github.com/ltipub/ltipub/lti/lti2"
)

type nonces struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (n *nonces) UseNonce(_ context.Context, key, nonce string, _ time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen[key+"\x00"+nonce] {
		return lti.ErrNonceReused
	}
	n.seen[key+"\x00"+nonce] = true
	return nil
}

const regURL = "https://tool.example.com/lti/legacy/uuid-1/register/tok"

func tool() lti2.Tool {
	return lti2.Tool{BaseURL: "https://tool.example.com", GUID: "tool.example.com", VendorCode: "ltipub", VendorName: "ltipub",
		ProductCode: "ltipub", ProductName: "Quiz", Version: "1",
		Handlers: []lti2.Handler{{Code: "uuid-1", Name: "Quiz", Path: "/lti/legacy/uuid-1", Capabilities: lti2.LaunchCapabilities}}}
}

// register runs the tool's side of a registration against c: parse, verify, fetch the profile, propose, post.
func register(t *testing.T, c *lti11test.Consumer, form url.Values) (*lti2.Proposal, *lti2.Registered, error) {
	t.Helper()
	req, err := lti2.ParseRegistration(form)
	if err != nil {
		return nil, nil, err
	}
	v := &lti11.Verifier{Nonces: &nonces{seen: map[string]bool{}}}
	if err := lti2.VerifyRegistration(context.Background(), req, v, http.MethodPost, regURL, lti11.FromValues(form)); err != nil {
		return nil, nil, err
	}
	p, err := lti2.FetchProfile(context.Background(), http.DefaultClient, req.ProfileURL)
	if err != nil {
		return nil, nil, err
	}
	prop, err := lti2.Propose(p, tool())
	if err != nil {
		return nil, nil, err
	}
	reg, err := prop.Post(context.Background(), http.DefaultClient, &lti11.Signer{ConsumerKey: req.Key, Secret: req.Password})
	return prop, reg, err
}

func TestRegistrationAgainstReferenceConsumer(t *testing.T) {
	for _, split := range []bool{false, true} {
		c := lti11test.New(t, "unused", "unused")
		c.SetLTI2(lti11test.LTI2Accept, split)
		form, regKey, err := c.RegistrationForm(regURL)
		if err != nil {
			t.Fatal(err)
		}
		prop, reg, err := register(t, c, form)
		if err != nil {
			t.Fatalf("split=%v: %v (consumer refused: %v)", split, err, c.Rejected())
		}
		rec, ok := c.ToolProxy(reg.GUID)
		if !ok || rec.RegKey != regKey || rec.Secret != reg.SharedSecret || rec.Split != split || prop.Split != split || !prop.Outcomes {
			t.Fatalf("split=%v: the consumer and the tool disagree: %+v %+v %+v", split, rec, reg, prop)
		}
		if split && (len(reg.SharedSecret) != 256 || !strings.HasSuffix(reg.SharedSecret, prop.ToolProxy.SecurityContract.TPHalfSharedSecret)) {
			t.Fatalf("split secret %q is not tc half + tp half", reg.SharedSecret)
		}
		caps := rec.Proxy.ToolProfile.ResourceHandler[0].Message[0].EnabledCapability
		for _, want := range []string{"User.id", "Membership.role", "BasicOutcome.url", "Result.sourcedId"} {
			if !strings.Contains(strings.Join(caps, " "), want) {
				t.Errorf("capability %s not enabled: %v", want, caps)
			}
		}
		if strings.Contains(strings.Join(caps, " "), "User.image") || !strings.Contains(strings.Join(prop.Missing, " "), "User.image") {
			t.Errorf("a capability the profile does not offer was enabled, or not reported: %v %v", caps, prop.Missing)
		}
		// The credentials were good once.
		if _, err := prop.Post(context.Background(), http.DefaultClient, &lti11.Signer{ConsumerKey: regKey, Secret: form.Get("reg_password")}); !errors.Is(err, lti2.ErrToolProxyRefused) {
			t.Fatalf("a second post with the same credentials: %v", err)
		}
	}
}

func TestRegistrationFailures(t *testing.T) {
	c := lti11test.New(t, "unused", "unused")
	form, _, err := c.RegistrationForm(regURL)
	if err != nil {
		t.Fatal(err)
	}
	tampered := url.Values{}
	for k, v := range form {
		tampered[k] = append([]string(nil), v...)
	}
	tampered.Set("tc_profile_url", "https://attacker.example/profile")
	if _, _, err := register(t, c, tampered); !errors.Is(err, lti11.ErrBadSignature) {
		t.Errorf("a tampered request: %v", err)
	}
	for _, tt := range []struct {
		name string
		mode lti11test.LTI2Mode
		want error
	}{
		{"profile down", lti11test.LTI2ProfileDown, lti2.ErrProfileUnreachable},
		{"no ToolProxy service", lti11test.LTI2NoToolProxyService, lti2.ErrServiceMissing},
		{"tool proxy refused", lti11test.LTI2RefuseToolProxy, lti2.ErrToolProxyRefused},
	} {
		c.SetLTI2(tt.mode, false)
		form, _, _ := c.RegistrationForm(regURL)
		if _, _, err := register(t, c, form); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	for name, v := range map[string]url.Values{
		"no reg_key":     {"lti_message_type": {lti2.MessageRegistration}, "lti_version": {lti2.Version}, "reg_password": {"p"}, "tc_profile_url": {"https://a/p"}, "launch_presentation_return_url": {"https://a/r"}},
		"version 1":      {"lti_message_type": {lti2.MessageRegistration}, "lti_version": {"LTI-1p0"}},
		"launch message": {"lti_message_type": {lti11.MessageLaunch}, "lti_version": {lti2.Version}},
		"relative URL":   {"lti_message_type": {lti2.MessageRegistration}, "lti_version": {lti2.Version}, "reg_key": {"k"}, "reg_password": {"p"}, "tc_profile_url": {"/p"}, "launch_presentation_return_url": {"https://a/r"}},
	} {
		if _, err := lti2.ParseRegistration(v); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestReturnURL(t *testing.T) {
	u, err := lti2.ReturnURL("https://lms.example/mod/lti/registrationreturn.php?id=3&sesskey=x", true, "guid-1", "Registered")
	if err != nil || !strings.Contains(u, "id=3") || !strings.Contains(u, "status=success") || !strings.Contains(u, "tool_proxy_guid=guid-1") {
		t.Fatalf("%s %v", u, err)
	}
	if u, _ := lti2.ReturnURL("https://lms.example/r", false, "", "No ToolProxy service"); !strings.Contains(u, "status=failure") || !strings.Contains(u, "lti_errormsg=No+ToolProxy+service") {
		t.Fatal(u)
	}
	if _, err := lti2.ReturnURL("javascript:alert(1)", true, "g", ""); err == nil {
		t.Fatal("a javascript: return URL")
	}
}
