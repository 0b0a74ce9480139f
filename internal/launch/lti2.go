package launch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
	"github.com/ltipub/ltipub/lti/lti2"
)

// LTI 2.0 tool proxy registration of a published resource: the platform posts a ToolProxyRegistrationRequest to
// the resource's registration URL; the tool reads the platform's tool consumer profile, posts a tool proxy with
// the resource's handler to the platform's ToolProxy service, records the tool proxy the platform accepted, and
// sends the browser back. From then on the platform is one more LTI 1.1 consumer of the resource (legacy.go), its
// consumer key the tool proxy GUID. The registration is one row of the launch log, accepted or refused.

// Stage and path of registrations in the launch log.
const (
	StageRegistration = "registration"
	PathLTI2          = "lti 2.0"
)

// ToolProxyRequest is a registration request as the web layer decoded it.
type ToolProxyRequest struct {
	// DecodeErr is set when the form could not be read.
	DecodeErr error
	Method    string
	// SignedURL is the registration URL as the tool's base URL makes it (what a signing platform signed).
	SignedURL string
	Form      url.Values
	Params    lti11.Params
	// UUID and Token name the resource and prove the URL came from its Legacy details.
	UUID, Token string
	RequestID   string
}

// ToolProxyOutcome is where a registration sends the browser.
type ToolProxyOutcome struct {
	// ReturnURL is the platform's launch_presentation_return_url with status=success and tool_proxy_guid, or (with
	// the error) status=failure and lti_errormsg; "" when the request named no usable return URL.
	ReturnURL string
	GUID      string
	Resource  publish.Resource
	// Notes say what the platform does not offer that the resource would use (Basic Outcomes).
	Notes []string
}

// lti2Nonces keeps registration request nonces apart from launch nonces.
type lti2Nonces struct{ store lti.NonceStore }

func (n lti2Nonces) UseNonce(ctx context.Context, regKey, nonce string, until time.Time) error {
	return n.store.UseNonce(ctx, "lti2:"+regKey, nonce, until)
}

// RegisterToolProxy registers a platform for a published resource over LTI 2.0. Nothing is recorded but the
// launch log row before the platform accepted the tool proxy.
func (s *Service) RegisterToolProxy(ctx context.Context, req ToolProxyRequest) (*ToolProxyOutcome, error) {
	entry := &LogEntry{Stage: StageRegistration, RequestID: req.RequestID, Path: PathLTI2,
		MessageType: req.Params.Get("lti_message_type"), ClientID: req.Params.Get("reg_key")}
	out := &ToolProxyOutcome{}
	err := req.DecodeErr
	if err == nil {
		err = s.registerToolProxy(ctx, req, entry, out)
	}
	if err != nil {
		out.ReturnURL = ""
		// The way back is offered only once the registration URL's token held: a request to an unknown URL could
		// name any return URL, and the page would become a link to it.
		if ru := strings.TrimSpace(req.Form.Get("launch_presentation_return_url")); ru != "" && out.Resource.ID != 0 {
			_, reason := Describe(err)
			if u, uerr := lti2.ReturnURL(ru, false, "", "ltipub could not register: "+reason); uerr == nil {
				out.ReturnURL = u
			}
		}
	}
	s.record(ctx, entry, err)
	return out, err
}

func (s *Service) registerToolProxy(ctx context.Context, req ToolProxyRequest, entry *LogEntry, out *ToolProxyOutcome) error {
	res, err := s.publish.RegistrationResource(ctx, req.UUID, req.Token)
	if err != nil {
		return err
	}
	out.Resource = res
	rr, err := lti2.ParseRegistration(req.Form)
	if err != nil {
		return err
	}
	if rr.Signed {
		v := &lti11.Verifier{Nonces: lti2Nonces{s.validator.Nonces}, Now: s.now}
		if err := lti2.VerifyRegistration(ctx, rr, v, req.Method, req.SignedURL, req.Params); err != nil {
			if errors.Is(err, lti11.ErrBadSignature) {
				le := *asLTIError(err)
				le.Description = "The registration request's OAuth signature is not valid (" + le.Description + ")"
				le.Fix = "the platform must sign the registration request with reg_key and reg_password over the registration URL " +
					mustBaseURI(req.SignedURL) + "; if the tool runs behind a proxy, its base URL setting must be the public URL the platform uses. " +
					"A request changed on its way is refused the same way: start the registration again from the platform"
				return &le
			}
			return err
		}
	} else {
		// Moodle's and Canvas's LTI 2.0 consumers post the request unsigned (reg_password travels in it, so a
		// signature with it would prove nothing more); the registration URL's token is what admits it.
		s.log.InfoContext(ctx, "LTI 2.0 registration request is unsigned, admitted by the registration URL's token", "reg_key", rr.Key)
	}
	if s.http == nil {
		return errors.New("LTI 2.0 registration is not wired (launch.Config.HTTP)")
	}
	profile, err := lti2.FetchProfile(ctx, s.http, rr.ProfileURL)
	if err != nil {
		return err
	}
	pi := profile.ProductInstance
	name := pi.ServiceOwner.ServiceOwnerName.DefaultValue
	if name == "" {
		name = pi.ProductInfo.ProductName.DefaultValue
	}
	entry.Issuer, entry.PlatformName = rr.ProfileURL, name
	launchURL := publish.LegacyLaunchURL(s.baseURL, res.UUID)
	t := lti2.Tool{BaseURL: s.baseURL, GUID: hostOf(s.baseURL), VendorCode: "ltipub", VendorName: "ltipub", VendorSite: s.baseURL,
		VendorDescription: "Courses and activities published as LTI tools", ProductCode: "ltipub", ProductName: res.Name, Version: "1.0",
		ProductDescription: res.Name + ", published from ltipub.",
		Handlers: []lti2.Handler{{Code: res.UUID, Name: res.Name, Path: strings.TrimPrefix(launchURL, s.baseURL), Icon: "/favicon.ico",
			Capabilities: lti2.LaunchCapabilities}}}
	prop, err := lti2.Propose(profile, t)
	if err != nil {
		return err
	}
	reg, err := prop.Post(ctx, s.http, &lti11.Signer{ConsumerKey: rr.Key, Secret: rr.Password, Now: s.now})
	if err != nil {
		return err
	}
	kept := prop.ToolProxy
	kept.SecurityContract.SharedSecret, kept.SecurityContract.TPHalfSharedSecret = "", ""
	body, _ := json.Marshal(kept)
	tp := &publish.ToolProxy{ResourceID: res.ID, GUID: reg.GUID, Secret: reg.SharedSecret, SplitSecret: prop.Split, ConsumerName: name,
		ProductFamily: pi.ProductInfo.ProductFamily.Code, ProfileURL: rr.ProfileURL, Proxy: string(body), CreatedAt: s.now()}
	if err := s.publish.SaveToolProxy(ctx, tp); err != nil {
		return err
	}
	entry.ClientID = reg.GUID
	out.GUID = reg.GUID
	msg := fmt.Sprintf("ltipub registered %s: add it to a course as the tool %q", res.Name, res.Name)
	if !prop.Outcomes && res.GradeSync {
		note := "the platform offers no Basic Outcomes in LTI 2.0 launches, so grades stay in ltipub"
		out.Notes = append(out.Notes, note)
		entry.Warning = note
		msg += " (" + note + ")"
	}
	out.ReturnURL, err = lti2.ReturnURL(rr.ReturnURL, true, reg.GUID, msg)
	return err
}

func asLTIError(err error) *lti.Error {
	var le *lti.Error
	if errors.As(err, &le) {
		return le
	}
	return &lti.Error{Code: lti11.CodeBadSignature, Description: err.Error(), Err: err}
}

func mustBaseURI(u string) string {
	b, err := lti11.BaseURI(u)
	if err != nil {
		return u
	}
	return b
}

func hostOf(base string) string {
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		return u.Host
	}
	return base
}

// toolProxyHint rewrites the fix of an invalid signature of a tool proxy's launch: its secret is not one a
// teacher copies, but the one the registration agreed.
func toolProxyHint(tp *publish.ToolProxy, err error) error {
	var le *lti.Error
	if tp == nil || !errors.Is(err, lti11.ErrBadSignature) || !errors.As(err, &le) || strings.HasPrefix(le.Fix, "the secret is right") {
		return err
	}
	hint := *le
	hint.Fix = fmt.Sprintf("the platform signed this launch as tool proxy %s (registered over LTI 2.0 on %s) with another secret than the one "+
		"the registration agreed; register the tool again from the platform with the resource's Registration URL", tp.GUID, tp.CreatedAt.Format("2006-01-02"))
	return &hint
}
